import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { AuditOrigin, Principal, Role } from "@fintech/auth";
import { auditEvent, roleToProto, signAccessToken } from "@fintech/auth";
import type { Queryable } from "@fintech/db";
import { isUniqueViolation, withTransaction } from "@fintech/db";
import { enqueue } from "@fintech/events";
import type { Clock } from "@fintech/platform";
import { cursorParts, pageCursor, takePage } from "@fintech/platform";
import {
  UserDeletedSchema,
  UserProfileChangedSchema,
  UserRegisteredSchema,
  UserRolesChangedSchema,
  UserStatusChangedSchema,
} from "@fintech/proto/fintech/identity/v1/events_pb.js";
import { UserStatus as UserStatusEnum } from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import type { JSONWebKeySet } from "jose";
import type pg from "pg";
import type { ServiceCredential } from "./config.js";
import { DEFAULT_CURRENCY, DEFAULT_TIMEZONE } from "./config.js";
import { normaliseEmail } from "./email.js";
import { IdentityError, isIdentityError } from "./errors.js";
import type { ThrottleSettings } from "./login-throttle.js";
import { admitLogin } from "./login-throttle.js";
import type { PasswordHasher } from "./passwords.js";
import { apiKeyPrefix, newApiKey, newRefreshToken, sameDigest, sha256 } from "./secrets.js";
import type { SigningKeyRing } from "./signing-keys.js";
import type { ApiKeyRow, UserRow, UserStatus } from "./store.js";
import { store } from "./store.js";

export interface IdentitySettings {
  issuer: string;
  audience: string;
  /** Access token lifetime, in seconds. */
  accessTtlSeconds: number;
  /** Refresh token lifetime, in milliseconds (each rotation starts a new one). */
  refreshTtlMs: number;
  /** Service token lifetime, in seconds. */
  serviceTokenTtlSeconds: number;
  throttle: ThrottleSettings;
  serviceCredentials: readonly ServiceCredential[];
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

export interface NewUser {
  email: string;
  password: string;
  fullName: string;
  /** IANA time zone; default UTC. */
  timezone?: string | undefined;
  /** ISO 4217 code; default MYR. */
  defaultCurrency?: string;
}

export interface ApiKeyPage {
  data: ApiKeyRow[];
  nextCursor: string | undefined;
}

/** The protobuf value of each status. */
export const statusToProto: Record<UserStatus, UserStatusEnum> = {
  active: UserStatusEnum.ACTIVE,
  suspended: UserStatusEnum.SUSPENDED,
  closed: UserStatusEnum.CLOSED,
};

// Compared against when a client id is unknown, so the answer takes as long as for a known one.
const NO_SECRET = Buffer.alloc(32);

/**
 * The identity domain: users, passwords, tokens, API keys and service credentials. Inputs have passed
 * validation.ts (well-formed email, acceptable password, known time zone and currency, UUID ids).
 */
export function createIdentityService(deps: {
  pool: pg.Pool;
  clock: Clock;
  hasher: PasswordHasher;
  keys: SigningKeyRing;
  settings: IdentitySettings;
  /**
   * Called once a change to what a user's credentials may do (status, roles, deletion) has committed, so that
   * this process applies it at once rather than when its own event comes back through the stream.
   */
  userChanged?: (userId: string) => void;
}) {
  const { pool, clock, hasher, keys, settings } = deps;

  async function accessToken(principal: Principal, ttlSeconds: number) {
    const { kid, privateKey } = await keys.signer();
    return signAccessToken({
      privateKey,
      kid,
      issuer: settings.issuer,
      audience: settings.audience,
      principal,
      ttlSeconds,
      now: clock.now(),
    });
  }

  async function addRefreshToken(db: Queryable, userId: string, familyId: string): Promise<string> {
    const token = newRefreshToken();
    const now = clock.now();
    await store.insertRefreshToken(db, {
      id: randomUUID(),
      tokenHash: sha256(token),
      familyId,
      userId,
      createdAt: now,
      expiresAt: new Date(now.getTime() + settings.refreshTtlMs),
    });
    return token;
  }

  async function pairFor(user: UserRow, refreshToken: string): Promise<TokenPair> {
    const { token } = await accessToken(
      { kind: "user", userId: user.id, roles: user.roles, credential: "jwt" },
      settings.accessTtlSeconds,
    );
    return { accessToken: token, refreshToken, expiresIn: settings.accessTtlSeconds };
  }

  async function existingUser(db: Queryable, id: string, forUpdate = false): Promise<UserRow> {
    const user = await store.userById(db, id, { forUpdate });
    if (user === undefined) throw new IdentityError("NOT_FOUND", "user not found", { user_id: id });
    return user;
  }

  function changeable(user: UserRow): void {
    if (user.deletedAt !== null) {
      throw new IdentityError("USER_NOT_ACTIVE", "the user is deleted", {
        user_id: user.id,
        status: "deleted",
      });
    }
  }

  // The fields every identity.user.* event carries.
  function eventFields(user: UserRow) {
    return {
      userId: user.id,
      email: user.email,
      status: statusToProto[user.status],
      timezone: user.timezone,
      defaultCurrency: user.defaultCurrency,
      roles: user.roles.map(roleToProto),
      occurredAt: timestampFromDate(clock.now()),
    };
  }

  async function createUser(input: NewUser, roles: readonly Role[]): Promise<UserRow> {
    const now = clock.now();
    const user: UserRow = {
      id: randomUUID(),
      email: normaliseEmail(input.email),
      fullName: input.fullName.trim(),
      passwordHash: await hasher.hash(input.password),
      status: "active",
      timezone: input.timezone || DEFAULT_TIMEZONE,
      defaultCurrency: (input.defaultCurrency || DEFAULT_CURRENCY).toUpperCase(),
      roles: [...roles],
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
      tokensRevokedAt: null,
    };
    try {
      await withTransaction(pool, async (tx) => {
        await store.insertUser(tx, user);
        await enqueue(tx, {
          type: "identity.user.registered",
          schema: UserRegisteredSchema,
          message: create(UserRegisteredSchema, eventFields(user)),
        });
      });
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new IdentityError(
          "EMAIL_TAKEN",
          "an account with this email exists",
          { field: "email" },
          {
            cause: err,
          },
        );
      }
      throw err;
    }
    return user;
  }

  return {
    /** Signs up an active user with the role "user"; publishes identity.user.registered. */
    register(input: NewUser): Promise<UserRow> {
      return createUser(input, ["user"]);
    },

    /**
     * Creates the first admin from configuration unless a user with that email exists (then nothing changes:
     * the password is not reset, roles are not touched). True when it was created.
     */
    async ensureAdmin(email: string, password: string): Promise<boolean> {
      if ((await store.userByEmail(pool, normaliseEmail(email))) !== undefined) return false;
      try {
        await createUser({ email, password, fullName: "Administrator" }, ["user", "admin"]);
        return true;
      } catch (err) {
        // Another replica created it first.
        if (isIdentityError(err) && err.reason === "EMAIL_TAKEN") return false;
        throw err;
      }
    },

    /**
     * Email and password to a token pair. Brute-force protection per account: see admitLogin. A wrong
     * password, an unknown or a deleted account all answer UNAUTHENTICATED after the same hashing work.
     */
    async login(emailInput: string, password: string): Promise<TokenPair> {
      const email = normaliseEmail(emailInput);
      const now = clock.now();
      const admission = await withTransaction(pool, async (tx) => {
        const decision = admitLogin(await store.lockThrottle(tx, email, now), now, settings.throttle);
        if (decision.admitted) await store.saveThrottle(tx, email, decision.next);
        return decision;
      });
      if (!admission.admitted) {
        const seconds = Math.max(1, Math.ceil((admission.retryAt.getTime() - now.getTime()) / 1000));
        throw new IdentityError(
          "RATE_LIMITED",
          `too many failed logins for this account; retry after ${seconds} s`,
          { retry_after_seconds: String(seconds), retry_at: admission.retryAt.toISOString() },
        );
      }
      const user = await store.userByEmail(pool, email);
      if (user === undefined || user.deletedAt !== null) {
        await hasher.verifyNothing(password);
        throw new IdentityError("UNAUTHENTICATED", "wrong email or password");
      }
      if (!(await hasher.verify(user.passwordHash, password))) {
        throw new IdentityError("UNAUTHENTICATED", "wrong email or password");
      }
      await store.clearThrottle(pool, email);
      if (user.status !== "active") {
        throw new IdentityError("USER_NOT_ACTIVE", `the account is ${user.status}`, { status: user.status });
      }
      if (hasher.needsRehash(user.passwordHash)) {
        await store.setPasswordHash(pool, user.id, await hasher.hash(password));
      }
      const refreshToken = await addRefreshToken(pool, user.id, randomUUID());
      return pairFor(user, refreshToken);
    },

    /**
     * Spends a refresh token for a new pair in the same family. A spent token presented again revokes the
     * whole family (whoever holds its newest token is logged out too): that is the sign it was stolen.
     */
    async refresh(token: string): Promise<TokenPair> {
      const now = clock.now();
      const outcome = await withTransaction(pool, async (tx) => {
        const row = await store.refreshTokenByHash(tx, sha256(token), { forUpdate: true });
        if (row === undefined || row.revokedAt !== null) return { ok: false as const, why: "invalid" };
        if (row.usedAt !== null) {
          await store.revokeFamily(tx, row.familyId, now);
          return { ok: false as const, why: "reused" };
        }
        if (row.expiresAt.getTime() <= now.getTime()) return { ok: false as const, why: "expired" };
        const user = await store.userById(tx, row.userId);
        if (user === undefined || user.deletedAt !== null || user.status !== "active") {
          await store.revokeFamily(tx, row.familyId, now);
          return { ok: false as const, why: "user not active" };
        }
        await store.markRefreshTokenUsed(tx, row.id, now);
        return { ok: true as const, user, next: await addRefreshToken(tx, user.id, row.familyId) };
      });
      // Outside the transaction, so that a revocation commits before the refusal.
      if (!outcome.ok) {
        throw new IdentityError("UNAUTHENTICATED", `refresh token refused (${outcome.why})`);
      }
      return pairFor(outcome.user, outcome.next);
    },

    /** Revokes the token's family; unknown or already revoked tokens are fine. */
    async logout(token: string): Promise<void> {
      const row = await store.refreshTokenByHash(pool, sha256(token));
      if (row !== undefined) await store.revokeFamily(pool, row.familyId, clock.now());
    },

    jwks(): Promise<JSONWebKeySet> {
      return keys.jwks();
    },

    rotateSigningKey(origin: AuditOrigin) {
      return keys.rotate(origin);
    },

    /**
     * The calling user's row when they can still use the platform. A deleted, suspended or closed user is
     * UNAUTHENTICATED: the credential they called with no longer authorizes anything (the authenticator refuses
     * it too; this covers the seconds before it learns of the change).
     */
    async activeUser(id: string): Promise<UserRow> {
      const user = await store.userById(pool, id);
      if (user === undefined || user.deletedAt !== null) {
        throw new IdentityError("UNAUTHENTICATED", "the account no longer exists");
      }
      if (user.status !== "active") {
        throw new IdentityError("UNAUTHENTICATED", `the account is ${user.status}`);
      }
      return user;
    },

    /**
     * What verifiers need to honour a change to a user at once (GetUserAccess): whether any credential of
     * theirs still authorizes, their current roles, and when their access tokens were last revoked. An unknown
     * id is not active, like a deleted user.
     */
    async userAccess(
      id: string,
    ): Promise<{ active: boolean; roles: readonly Role[]; tokensRevokedAt: Date | null }> {
      const user = await store.userById(pool, id);
      if (user === undefined) return { active: false, roles: [], tokensRevokedAt: null };
      return {
        active: user.deletedAt === null && user.status === "active",
        roles: user.roles,
        tokensRevokedAt: user.tokensRevokedAt,
      };
    },

    /** Any user, deleted ones included (admins). */
    getUser(id: string): Promise<UserRow> {
      return existingUser(pool, id);
    },

    /** Changes the caller's name, time zone or default currency; publishes identity.user.profile_changed. */
    async updateProfile(
      id: string,
      patch: {
        fullName?: string | undefined;
        timezone?: string | undefined;
        defaultCurrency?: string | undefined;
      },
    ): Promise<UserRow> {
      await this.activeUser(id);
      return withTransaction(pool, async (tx) => {
        const updated = await store.updateProfile(
          tx,
          id,
          {
            fullName: patch.fullName?.trim(),
            timezone: patch.timezone,
            defaultCurrency: patch.defaultCurrency?.toUpperCase(),
          },
          clock.now(),
        );
        if (updated === undefined) throw new IdentityError("UNAUTHENTICATED", "the account no longer exists");
        // Other services keep the user's time zone and default currency (the wallet's balance and default
        // wallet follow them): they learn of the change from this event.
        await enqueue(tx, {
          type: "identity.user.profile_changed",
          schema: UserProfileChangedSchema,
          message: create(UserProfileChangedSchema, eventFields(updated)),
        });
        return updated;
      });
    },

    /**
     * Admin: changes a user's status; closed is final. Publishes identity.user.status_changed and the audit entry
     * of `origin` (no change, no entry).
     */
    async setStatus(id: string, status: UserStatus, origin: AuditOrigin): Promise<UserRow> {
      const after = await withTransaction(pool, async (tx) => {
        const user = await existingUser(tx, id, true);
        changeable(user);
        if (user.status === status) return user;
        if (user.status === "closed") {
          throw new IdentityError("USER_NOT_ACTIVE", "the account is closed; closing is final", {
            user_id: id,
            status: "closed",
          });
        }
        const now = clock.now();
        const updated = await store.setStatus(tx, id, status, now);
        if (status !== "active") await store.revokeUserRefreshTokens(tx, id, now);
        await enqueue(tx, {
          type: "identity.user.status_changed",
          schema: UserStatusChangedSchema,
          message: create(UserStatusChangedSchema, {
            ...eventFields(updated),
            previousStatus: statusToProto[user.status],
          }),
        });
        await enqueue(
          tx,
          auditEvent(origin, {
            subjectType: "user",
            subjectId: id,
            before: { status: user.status },
            after: { status: updated.status },
            occurredAt: now,
          }),
        );
        return updated;
      });
      deps.userChanged?.(id);
      return after;
    },

    /** Admin: soft delete (idempotent). Publishes identity.user.deleted and the audit entry of `origin` once. */
    async deleteUser(id: string, origin: AuditOrigin): Promise<void> {
      await withTransaction(pool, async (tx) => {
        const user = await existingUser(tx, id, true);
        if (user.deletedAt !== null) return;
        const now = clock.now();
        const deleted = await store.markDeleted(tx, id, now);
        await store.revokeUserRefreshTokens(tx, id, now);
        await store.revokeUserApiKeys(tx, id, now);
        await enqueue(tx, {
          type: "identity.user.deleted",
          schema: UserDeletedSchema,
          message: create(UserDeletedSchema, eventFields(deleted)),
        });
        await enqueue(
          tx,
          auditEvent(origin, {
            subjectType: "user",
            subjectId: id,
            before: { status: user.status, deleted: false },
            after: { status: deleted.status, deleted: true },
            occurredAt: now,
          }),
        );
      });
      deps.userChanged?.(id);
    },

    /**
     * Admin: replaces a user's roles. Publishes identity.user.roles_changed, on which every verifier narrows
     * the roles of the user's access tokens already issued to the new ones.
     */
    async setRoles(id: string, roles: readonly Role[], origin: AuditOrigin): Promise<UserRow> {
      const after = await withTransaction(pool, async (tx) => {
        const user = await existingUser(tx, id, true);
        changeable(user);
        const wanted = (["user", "admin"] as const).filter((r) => roles.includes(r));
        const now = clock.now();
        const updated = await store.setRoles(tx, id, wanted, now);
        await enqueue(tx, {
          type: "identity.user.roles_changed",
          schema: UserRolesChangedSchema,
          message: create(UserRolesChangedSchema, {
            userId: id,
            roles: updated.roles.map(roleToProto),
            previousRoles: user.roles.map(roleToProto),
            occurredAt: timestampFromDate(now),
          }),
        });
        await enqueue(
          tx,
          auditEvent(origin, {
            subjectType: "user",
            subjectId: id,
            before: { roles: [...user.roles] },
            after: { roles: [...updated.roles] },
            occurredAt: now,
          }),
        );
        return updated;
      });
      deps.userChanged?.(id);
      return after;
    },

    /** A new API key acting as the user; the key itself is returned here only. */
    async createApiKey(userId: string, name: string): Promise<{ row: ApiKeyRow; key: string }> {
      await this.activeUser(userId);
      const { key, prefix } = newApiKey();
      const row: ApiKeyRow = {
        id: randomUUID(),
        userId,
        name: name.trim(),
        prefix,
        keyHash: sha256(key),
        createdAt: clock.now(),
        lastUsedAt: null,
        revokedAt: null,
      };
      await store.insertApiKey(pool, row);
      return { row, key };
    },

    async listApiKeys(userId: string, limit: number, cursor?: string): Promise<ApiKeyPage> {
      await this.activeUser(userId);
      const after = cursor === undefined ? undefined : apiKeyCursor.decode(cursor);
      const rows = await store.listApiKeys(pool, userId, { limit: limit + 1, after });
      const { items, nextPageToken } = takePage(rows, limit, (last) => apiKeyCursor.encode(last));
      return { data: items, nextCursor: nextPageToken };
    },

    /** Revokes one of the user's keys; another user's key is NOT_FOUND, like a missing one. */
    async revokeApiKey(userId: string, id: string): Promise<void> {
      await this.activeUser(userId);
      if (!(await store.revokeApiKey(pool, userId, id, clock.now()))) {
        throw new IdentityError("NOT_FOUND", "API key not found", { api_key_id: id });
      }
    },

    /** The owner of a key, or UNAUTHENTICATED when the key is unknown, revoked, or its owner not active. */
    async verifyApiKey(key: string): Promise<{ user: UserRow; apiKeyId: string }> {
      const prefix = apiKeyPrefix(key);
      const row = prefix === undefined ? undefined : await store.apiKeyByPrefix(pool, prefix);
      if (row === undefined || !sameDigest(sha256(key), row.keyHash) || row.revokedAt !== null) {
        throw new IdentityError("UNAUTHENTICATED", "invalid API key");
      }
      const user = await store.userById(pool, row.userId);
      if (user === undefined || user.deletedAt !== null || user.status !== "active") {
        throw new IdentityError("UNAUTHENTICATED", "invalid API key");
      }
      await store.touchApiKey(pool, row.id, clock.now());
      return { user, apiKeyId: row.id };
    },

    /** A short-lived token for a configured service; secrets are compared as SHA-256 digests in constant time. */
    async issueServiceToken(
      clientId: string,
      secret: string,
    ): Promise<{ token: string; expiresAt: Date; expiresIn: number }> {
      const credential = settings.serviceCredentials.find((c) => c.clientId === clientId);
      const matches = sameDigest(sha256(secret), credential?.secretSha256 ?? NO_SECRET);
      if (credential === undefined || !matches) {
        throw new IdentityError("UNAUTHENTICATED", "invalid client credentials");
      }
      const ttl = settings.serviceTokenTtlSeconds;
      return { ...(await accessToken({ kind: "service", service: clientId }, ttl)), expiresIn: ttl };
    },
  };
}

export type IdentityService = ReturnType<typeof createIdentityService>;

/** API keys are listed newest first: the position is the last key's creation time and id. */
const apiKeyCursor = pageCursor({ createdAt: cursorParts.time, id: cursorParts.uuid });
