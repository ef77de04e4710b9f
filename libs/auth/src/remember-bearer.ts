import type { Authenticator } from "./authenticator.js";
import type { Principal } from "./principal.js";

/**
 * `authenticator` with a memory of the bearer tokens it has accepted: a service presents the same token on every
 * call until it renews it, and an Ed25519 verification costs more than the ledger's own work per transfer. A
 * token is remembered at most `ttlMs` (default 30 s, so a key removed from the JWKS stops working within that
 * time) and never past its own `exp`; refusals are not remembered, and API keys go straight through (the
 * authenticator caches those itself). At most `maxEntries` (default 1000) tokens, the oldest dropped first.
 */
export function rememberBearer(
  authenticator: Authenticator,
  opts: { ttlMs?: number; maxEntries?: number; clock?: () => Date } = {},
): Authenticator {
  const ttlMs = opts.ttlMs ?? 30_000;
  const maxEntries = opts.maxEntries ?? 1000;
  const clock = opts.clock ?? (() => new Date());
  const accepted = new Map<string, { principal: Principal; until: number }>();
  return {
    async authenticate(headers) {
      const authorization = headers.get("authorization");
      if (authorization === null || authorization === "") return authenticator.authenticate(headers);
      const now = clock().getTime();
      const hit = accepted.get(authorization);
      if (hit !== undefined && now < hit.until) return hit.principal;
      accepted.delete(authorization);
      const principal = await authenticator.authenticate(headers);
      if (principal === undefined) return principal;
      const exp = expiresAtMs(authorization);
      accepted.set(authorization, { principal, until: Math.min(now + ttlMs, exp ?? now) });
      if (accepted.size > maxEntries) {
        const oldest = accepted.keys().next();
        if (!oldest.done) accepted.delete(oldest.value);
      }
      return principal;
    },
  };
}

// The `exp` of a "Bearer <jwt>" header in ms; read only after the authenticator has verified the token.
function expiresAtMs(authorization: string): number | undefined {
  try {
    const payload = authorization.split(" ").at(-1)?.split(".")[1] ?? "";
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as { exp?: unknown };
    return typeof claims.exp === "number" ? claims.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
