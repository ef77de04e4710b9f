import { decodeJwt } from "jose";
import type { Authenticator } from "./authenticator.js";
import { DEFAULT_FORWARDERS, forwardedByOneOf } from "./client-ip.js";
import { unauthenticated } from "./errors.js";
import type { Role } from "./principal.js";
import { isRole } from "./principal.js";

/**
 * A forwarder's answer about the user whose credential it forwards (`user=<id>&roles=user,admin&age=<ms>`, and
 * `&revoked=<ms>` when their tokens were revoked), sent beside its proof (x-forwarded-by) so that the service
 * it calls need not ask identity again what it asked a moment ago. Only an active user's answer is sent.
 */
export const USER_ACCESS_HEADER = "x-user-access";

/** What a verifier must know of a user to honour a change before their access tokens expire. */
export interface UserAccess {
  /** False for a suspended, closed, deleted or unknown user: none of their credentials authorize anything. */
  active: boolean;
  /** The user's current roles; a credential claiming more gets only these. */
  roles: readonly Role[];
  /** Access tokens issued before this instant (ms since the epoch; `iat` is whole seconds) are revoked; undefined when none are. */
  tokensRevokedAtMs?: number;
}

/** Options for {@link createUserAccessCache}. */
export interface UserAccessCacheOptions {
  /** Reads a user's access from identity (GetUserAccess) or, in identity, from its own store. */
  lookup: (userId: string) => Promise<UserAccess>;
  /**
   * How long an answer is reused, in milliseconds (default 5000, which is the longest a suspension, deletion or
   * role change takes to apply when its event is missed). `changed()` drops an answer at once.
   */
  ttlMs?: number;
  /** Most users remembered at once (default 100_000); the oldest go first. */
  maxEntries?: number;
  /** Default: the system clock. */
  clock?: () => Date;
}

/** Users' access, remembered briefly; see {@link createUserAccessCache}. */
export interface UserAccessCache {
  /** The user's access; one lookup at a time per user, a failed lookup is not remembered. */
  get(userId: string): Promise<UserAccess>;
  /** Something changed for this user (an identity.user.* event): the next `get` looks again. */
  changed(userId: string): void;
  /** Changes may have been missed (the event feed was down): every user is looked up again. */
  forgetAll(): void;
  /** The answer `get` would give now without a lookup, with its age in ms; undefined while none is at hand. */
  held(userId: string): { access: UserAccess; ageMs: number } | undefined;
  /**
   * Another verifier's answer, looked up `ageMs` ago (a forwarder's, see {@link USER_ACCESS_HEADER}): kept when it
   * is fresher than the one held and younger than the TTL, and not from before a change this cache heard of.
   */
  heard(userId: string, access: UserAccess, ageMs: number): void;
}

/**
 * A per-user memory of {@link UserAccess}, so that a request costs no call to identity and no database round trip,
 * while a change still applies within `ttlMs`, or at once when its event arrives (see followUserChanges). An
 * answer in the last fifth of its `ttlMs` is still given and looked up again in the background, so that a user
 * who keeps making requests does not wait for identity every `ttlMs` (about one purchase in five of a
 * benchmark's users did, 1 to 2 ms each); no answer older than `ttlMs` is ever given. An answer heard from a
 * forwarder is not looked up again that way: the forwarder refreshes its own and sends it with the next call.
 */
export function createUserAccessCache(opts: UserAccessCacheOptions): UserAccessCache {
  const ttlMs = opts.ttlMs ?? 5000;
  const maxEntries = opts.maxEntries ?? 100_000;
  const clock = opts.clock ?? (() => new Date());
  interface Entry {
    access: Promise<UserAccess>;
    /** `access` once it is in. */
    settled?: UserAccess;
    /** When the lookup that gave `access` started: its answer is at least that fresh. */
    since: number;
    refreshing: boolean;
    /**
     * A forwarder's answer (heard): it is not looked up again in the last fifth of its TTL, since the forwarder
     * refreshes its own and sends the fresher one with the caller's next request.
     */
    heard?: boolean;
  }
  // Insertion-ordered, so the first entry is the oldest.
  const entries = new Map<string, Entry>();
  // When a change was last heard of, per user, for a TTL (insertion-ordered too), and for every user: an answer
  // heard from elsewhere that was looked up before it is not kept.
  const changes = new Map<string, number>();
  let everyoneChanged = Number.NEGATIVE_INFINITY;

  function remember(userId: string, entry: Entry): void {
    entries.delete(userId);
    entries.set(userId, entry);
    entry.access.then(
      (access) => {
        entry.settled = access;
      },
      () => {
        if (entries.get(userId) === entry) entries.delete(userId);
      },
    );
    if (entries.size > maxEntries) {
      const oldest = entries.keys().next();
      if (!oldest.done) entries.delete(oldest.value);
    }
  }

  // The answer is replaced once the new one is in; until then, and if it fails, the old one stands (to its ttlMs).
  function refresh(userId: string, entry: Entry, now: number): void {
    entry.refreshing = true;
    opts.lookup(userId).then(
      (access) => {
        // changed() or forgetAll() meanwhile: this lookup may have read the old state.
        if (entries.get(userId) === entry) {
          remember(userId, {
            access: Promise.resolve(access),
            settled: access,
            since: now,
            refreshing: false,
          });
        }
      },
      () => {
        entry.refreshing = false;
      },
    );
  }

  return {
    get(userId) {
      const now = clock().getTime();
      const hit = entries.get(userId);
      if (hit !== undefined && now < hit.since + ttlMs) {
        // Not sooner: every refresh is a call to identity, and one at half the TTL doubled them.
        if (!hit.refreshing && !hit.heard && now >= hit.since + ttlMs * 0.8) refresh(userId, hit, now);
        return hit.access;
      }
      const entry: Entry = { access: opts.lookup(userId), since: now, refreshing: false };
      remember(userId, entry);
      return entry.access;
    },
    changed(userId) {
      // A lookup still in flight may have read the old state: dropping its entry keeps its answer from being reused.
      entries.delete(userId);
      const now = clock().getTime();
      changes.delete(userId);
      changes.set(userId, now);
      for (const [id, at] of changes) {
        if (at > now - ttlMs) break;
        changes.delete(id);
      }
    },
    forgetAll() {
      entries.clear();
      changes.clear();
      everyoneChanged = clock().getTime();
    },
    held(userId) {
      const hit = entries.get(userId);
      if (hit?.settled === undefined) return undefined;
      const ageMs = clock().getTime() - hit.since;
      return ageMs < ttlMs ? { access: hit.settled, ageMs } : undefined;
    },
    heard(userId, access, ageMs) {
      const since = clock().getTime() - ageMs;
      if (
        !(ageMs >= 0 && ageMs < ttlMs) ||
        since <= everyoneChanged ||
        since <= (changes.get(userId) ?? since - 1)
      ) {
        return;
      }
      const hit = entries.get(userId);
      if (hit !== undefined && hit.since >= since) return;
      remember(userId, {
        access: Promise.resolve(access),
        settled: access,
        since,
        refreshing: false,
        heard: true,
      });
    },
  };
}

/**
 * `authenticator` refusing the credentials of users who are no longer active, and access tokens issued before
 * the user's last revocation (both Unauthenticated), and narrowing a caller's roles to the user's current
 * ones (a demoted admin's token keeps working as a user's: admin methods answer PermissionDenied). Services'
 * principals pass untouched. Wrap the outermost authenticator (after rememberBearer), so that no memory of an
 * accepted token outlives a change. A forwarder's answer about the same user ({@link USER_ACCESS_HEADER}, with
 * a valid service token of one of `forwarders`, default the gateway, in x-forwarded-by) goes into `access`
 * first (UserAccessCache.heard), so a call the gateway forwards does not wait for identity a second time.
 */
export function checkUserAccess(
  authenticator: Authenticator,
  access: UserAccessCache,
  opts: { forwarders?: readonly string[] } = {},
): Authenticator {
  const forwarders = new Set(opts.forwarders ?? DEFAULT_FORWARDERS);
  return {
    async authenticate(headers) {
      const principal = await authenticator.authenticate(headers);
      if (principal?.kind !== "user") return principal;
      const vouched = parseUserAccessHeader(headers.get(USER_ACCESS_HEADER));
      if (
        vouched?.userId === principal.userId &&
        (await forwardedByOneOf(authenticator, headers, forwarders))
      ) {
        access.heard(vouched.userId, vouched.access, vouched.ageMs);
      }
      const current = await access.get(principal.userId);
      if (!current.active) throw unauthenticated("the user is not active");
      if (principal.credential === "jwt" && current.tokensRevokedAtMs !== undefined) {
        const issuedAt = issuedAtMs(headers.get("authorization"));
        if (issuedAt === undefined || issuedAt < current.tokensRevokedAtMs) {
          throw unauthenticated("the access token was revoked");
        }
      }
      const roles = principal.roles.filter((r) => current.roles.includes(r));
      return roles.length === principal.roles.length ? principal : { ...principal, roles };
    },
  };
}

/** The {@link USER_ACCESS_HEADER} value for an active user's answer held `ageMs`; undefined for an inactive one. */
export function userAccessHeader(
  userId: string,
  held: { access: UserAccess; ageMs: number },
): string | undefined {
  const { access, ageMs } = held;
  if (!access.active) return undefined;
  const fields = new URLSearchParams({
    user: userId,
    roles: access.roles.join(","),
    age: String(Math.round(ageMs)),
  });
  if (access.tokensRevokedAtMs !== undefined) fields.set("revoked", String(access.tokensRevokedAtMs));
  return fields.toString();
}

const WHOLE = /^\d{1,15}$/;

/** A {@link USER_ACCESS_HEADER} value read back; undefined for one that is missing or not well formed. */
export function parseUserAccessHeader(
  value: string | null,
): { userId: string; access: UserAccess; ageMs: number } | undefined {
  if (value === null) return undefined;
  const fields = new URLSearchParams(value);
  const userId = fields.get("user");
  const age = fields.get("age") ?? "";
  const revoked = fields.get("revoked");
  const roles = (fields.get("roles") ?? "").split(",").filter((r) => r !== "");
  if (!userId || !WHOLE.test(age) || (revoked !== null && !WHOLE.test(revoked)) || !roles.every(isRole)) {
    return undefined;
  }
  return {
    userId,
    access: { active: true, roles, ...(revoked === null ? {} : { tokensRevokedAtMs: Number(revoked) }) },
    ageMs: Number(age),
  };
}

// `iat` of a "Bearer <jwt>" header in ms; read only after the token was verified. `iat` is the second the token
// was issued in, rounded down, so a token issued in the second of a revocation counts as earlier.
function issuedAtMs(authorization: string | null): number | undefined {
  try {
    const iat = decodeJwt(authorization?.split(" ").at(-1) ?? "").iat;
    return typeof iat === "number" ? iat * 1000 : undefined;
  } catch {
    return undefined;
  }
}
