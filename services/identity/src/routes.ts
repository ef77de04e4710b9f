import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import type { Role } from "@fintech/auth";
import {
  auditOrigin,
  defineAccess,
  getPrincipal,
  requireAdmin,
  requireService,
  requireUser,
  roleFromProto,
  roleToProto,
} from "@fintech/auth";
import { canonicalTimeZone, pageSize } from "@fintech/platform";
import type { ApiKey, User } from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import {
  ApiKeySchema,
  IdentityService,
  UserSchema,
  UserStatus as UserStatusEnum,
} from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import { IdentityError } from "./errors.js";
import type { IdentityService as Identity } from "./identity-service.js";
import { statusToProto } from "./identity-service.js";
import type { ApiKeyRow, UserRow, UserStatus } from "./store.js";

// The RPC surface: who may call what, and proto messages at the edge. Requests have passed validation.ts.

/** Methods callable without credentials. */
export const PUBLIC_METHODS = ["Register", "Login", "Refresh", "Logout", "GetJwks", "IssueServiceToken"].map(
  (m) => `${IdentityService.typeName}/${m}`,
);

/**
 * Who may call what, checked after authentication and before validation, so a caller who may not call a method
 * is refused before any request rule runs. Handlers still check the caller for per-object rules.
 */
export const identityAccess = defineAccess(IdentityService, {
  register: "public",
  login: "public",
  refresh: "public",
  logout: "public",
  getJwks: "public",
  issueServiceToken: "public",
  getMe: "user",
  updateMe: "user",
  createApiKey: "user",
  listApiKeys: "user",
  revokeApiKey: "user",
  // Other services (wallet, fraud) may look a user up as themselves.
  getUser: "admin_or_service",
  updateUserStatus: "admin",
  deleteUser: "admin",
  setUserRoles: "admin",
  verifyApiKey: "service",
  getUserAccess: "service",
  rotateSigningKey: "admin",
});

const TOKEN_TYPE = "Bearer";

function statusFromProto(s: UserStatusEnum): UserStatus {
  switch (s) {
    case UserStatusEnum.ACTIVE:
      return "active";
    case UserStatusEnum.SUSPENDED:
      return "suspended";
    case UserStatusEnum.CLOSED:
      return "closed";
    default:
      throw new IdentityError("VALIDATION_ERROR", "status must be active, suspended or closed", {
        field: "status",
      });
  }
}

export function identityRoutes(identity: Identity) {
  return (router: ConnectRouter) =>
    router.service(IdentityService, {
      async register(req) {
        const user = await identity.register({
          email: req.email,
          password: req.password,
          fullName: req.fullName,
          timezone: req.timezone === "" ? undefined : canonicalTimeZone(req.timezone),
          defaultCurrency: req.defaultCurrency,
        });
        return { user: userMessage(user) };
      },
      async login(req) {
        const pair = await identity.login(req.email, req.password);
        return { ...pair, tokenType: TOKEN_TYPE };
      },
      async refresh(req) {
        const pair = await identity.refresh(req.refreshToken);
        return { ...pair, tokenType: TOKEN_TYPE };
      },
      async logout(req) {
        await identity.logout(req.refreshToken);
        return {};
      },
      async getJwks() {
        const { keys } = await identity.jwks();
        return {
          keys: keys.map((k) => ({
            kty: k.kty ?? "",
            crv: k.crv ?? "",
            x: k.x ?? "",
            kid: k.kid ?? "",
            alg: k.alg ?? "",
            use: k.use ?? "",
          })),
        };
      },
      async getMe(_req, ctx) {
        return { user: userMessage(await identity.activeUser(requireUser(ctx).userId)) };
      },
      async updateMe(req, ctx) {
        const me = requireUser(ctx);
        const user = await identity.updateProfile(me.userId, {
          fullName: req.fullName,
          timezone: req.timezone === undefined ? undefined : canonicalTimeZone(req.timezone),
          defaultCurrency: req.defaultCurrency,
        });
        return { user: userMessage(user) };
      },
      async createApiKey(req, ctx) {
        const me = requireUser(ctx);
        // A key could otherwise mint keys that outlive its own revocation.
        if (me.credential !== "jwt") {
          throw new IdentityError("FORBIDDEN", "API keys are created with a login token, not an API key");
        }
        const { row, key } = await identity.createApiKey(me.userId, req.name);
        return {
          id: row.id,
          name: row.name,
          key,
          prefix: row.prefix,
          createdAt: timestampFromDate(row.createdAt),
        };
      },
      async listApiKeys(req, ctx) {
        const me = requireUser(ctx);
        const page = await identity.listApiKeys(
          me.userId,
          pageSize(req.limit),
          req.cursor === "" ? undefined : req.cursor,
        );
        return {
          data: page.data.map(apiKeyMessage),
          hasMore: page.nextCursor !== undefined,
          nextCursor: page.nextCursor ?? "",
        };
      },
      async revokeApiKey(req, ctx) {
        await identity.revokeApiKey(requireUser(ctx).userId, req.id.toLowerCase());
        return {};
      },
      async getUser(req, ctx) {
        // Other services (wallet, fraud) may look a user up as themselves.
        if (getPrincipal(ctx)?.kind !== "service") requireAdmin(ctx);
        return { user: userMessage(await identity.getUser(req.id.toLowerCase())) };
      },
      async updateUserStatus(req, ctx) {
        requireAdmin(ctx);
        const user = await identity.setStatus(
          req.id.toLowerCase(),
          statusFromProto(req.status),
          auditOrigin(ctx),
        );
        return { user: userMessage(user) };
      },
      async deleteUser(req, ctx) {
        requireAdmin(ctx);
        await identity.deleteUser(req.id.toLowerCase(), auditOrigin(ctx));
        return {};
      },
      async setUserRoles(req, ctx) {
        requireAdmin(ctx);
        const roles = req.roles.map(roleFromProto).filter((r): r is Role => r !== undefined);
        return {
          user: userMessage(await identity.setRoles(req.id.toLowerCase(), roles, auditOrigin(ctx))),
        };
      },
      async verifyApiKey(req, ctx) {
        requireService(ctx);
        const { user, apiKeyId } = await identity.verifyApiKey(req.key);
        return { userId: user.id, roles: user.roles.map(roleToProto), apiKeyId };
      },
      async getUserAccess(req, ctx) {
        requireService(ctx);
        const access = await identity.userAccess(req.userId.toLowerCase());
        return {
          active: access.active,
          roles: access.roles.map(roleToProto),
          tokensRevokedAt:
            access.tokensRevokedAt === null ? undefined : timestampFromDate(access.tokensRevokedAt),
        };
      },
      async issueServiceToken(req) {
        const { token, expiresAt, expiresIn } = await identity.issueServiceToken(
          req.clientId,
          req.clientSecret,
        );
        return {
          accessToken: token,
          tokenType: TOKEN_TYPE,
          expiresIn,
          expiresAt: timestampFromDate(expiresAt),
        };
      },
      async rotateSigningKey(_req, ctx) {
        requireAdmin(ctx);
        const key = await identity.rotateSigningKey(auditOrigin(ctx));
        return {
          kid: key.kid,
          createdAt: timestampFromDate(key.createdAt),
          activatesAt: timestampFromDate(key.activatesAt),
        };
      },
    });
}

export function userMessage(u: UserRow): User {
  return create(UserSchema, {
    id: u.id,
    email: u.email,
    fullName: u.fullName,
    // One status everywhere: the wallet and the other services call a soft-deleted user deleted too.
    status: u.deletedAt === null ? statusToProto[u.status] : UserStatusEnum.DELETED,
    timezone: u.timezone,
    defaultCurrency: u.defaultCurrency,
    roles: u.roles.map(roleToProto),
    createdAt: timestampFromDate(u.createdAt),
    updatedAt: timestampFromDate(u.updatedAt),
    deletedAt: u.deletedAt === null ? undefined : timestampFromDate(u.deletedAt),
  });
}

function apiKeyMessage(k: ApiKeyRow): ApiKey {
  return create(ApiKeySchema, {
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    createdAt: timestampFromDate(k.createdAt),
    lastUsedAt: k.lastUsedAt === null ? undefined : timestampFromDate(k.lastUsedAt),
  });
}
