import { createHash } from "node:crypto";
import { unauthenticated } from "./errors.js";
import type { JwtVerifier } from "./jwt-verifier.js";
import type { Principal } from "./principal.js";

/** Options for {@link createAuthenticator}. */
export interface AuthenticatorOptions {
  jwt: JwtVerifier;
  /**
   * Who an API key acts as (identity's VerifyApiKey), undefined when the key is unknown, revoked or its owner
   * is not active. Without it, API keys are refused.
   */
  verifyApiKey?: ((key: string) => Promise<Principal | undefined>) | undefined;
  /**
   * How long an API key's answer (good or bad) is reused, in milliseconds (default 30_000): a revoked key or a
   * suspended owner is refused within this time. Entries are keyed by the SHA-256 of the key, never the key.
   */
  apiKeyCacheMs?: number;
  /** Most API keys cached at once (default 10_000); the oldest entries go first. */
  apiKeyCacheSize?: number;
  /** Default: the system clock. */
  clock?: () => Date;
}

/** Turns request headers into the caller; see {@link createAuthenticator}. */
export interface Authenticator {
  /**
   * The caller named by `authorization: Bearer <jwt>` (preferred) or `x-api-key: <key>`; undefined when the
   * request carries neither. Throws ConnectError Unauthenticated (reason UNAUTHENTICATED) for a credential
   * that is malformed, invalid, expired or revoked.
   */
  authenticate(headers: Headers): Promise<Principal | undefined>;
}

interface CacheEntry {
  principal: Promise<Principal | undefined>;
  expiresAt: number;
}

const BEARER = /^Bearer[ ]+(\S+)[ ]*$/i;
const MAX_API_KEY_LENGTH = 256;

/** Authenticates a request by its bearer token (verified locally) or API key (asked of identity, cached briefly). */
export function createAuthenticator(opts: AuthenticatorOptions): Authenticator {
  const cacheMs = opts.apiKeyCacheMs ?? 30_000;
  const maxEntries = opts.apiKeyCacheSize ?? 10_000;
  const clock = opts.clock ?? (() => new Date());
  // Insertion-ordered, so the first entry is the oldest.
  const cache = new Map<string, CacheEntry>();

  async function apiKeyPrincipal(key: string): Promise<Principal> {
    const verify = opts.verifyApiKey;
    if (verify === undefined) throw unauthenticated("API keys are not accepted here");
    if (key.length > MAX_API_KEY_LENGTH) throw unauthenticated("invalid API key");
    const digest = createHash("sha256").update(key).digest("base64url");
    const now = clock().getTime();
    let entry = cache.get(digest);
    if (entry === undefined || entry.expiresAt <= now) {
      cache.delete(digest);
      // Concurrent requests with the same key share one lookup; a failed lookup is not cached.
      const principal = verify(key);
      entry = { principal, expiresAt: now + cacheMs };
      cache.set(digest, entry);
      principal.catch(() => {
        if (cache.get(digest) === entry) cache.delete(digest);
      });
      while (cache.size > maxEntries) {
        const oldest = cache.keys().next();
        if (oldest.done) break;
        cache.delete(oldest.value);
      }
    }
    const principal = await entry.principal;
    if (principal === undefined) throw unauthenticated("invalid API key");
    return principal;
  }

  return {
    async authenticate(headers) {
      const authorization = headers.get("authorization");
      if (authorization !== null && authorization !== "") {
        const token = BEARER.exec(authorization)?.[1];
        if (token === undefined) throw unauthenticated("authorization must be: Bearer <access token>");
        return opts.jwt.verify(token);
      }
      const apiKey = headers.get("x-api-key");
      if (apiKey !== null && apiKey !== "") return apiKeyPrincipal(apiKey.trim());
      return undefined;
    },
  };
}
