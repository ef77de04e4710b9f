import { Code } from "@connectrpc/connect";
import { connectError } from "@fintech/platform";
import type { CryptoKey, JSONWebKeySet, JWK, JWTPayload } from "jose";
import { decodeProtectedHeader, errors, importJWK, jwtVerify } from "jose";
import { ACCESS_TOKEN_ALG, ACCESS_TOKEN_TYP, SERVICE_SUBJECT_PREFIX } from "./access-token.js";
import { unauthenticated } from "./errors.js";
import type { Principal, Role } from "./principal.js";
import { isRole } from "./principal.js";

/** Options for {@link createJwtVerifier}. */
export interface JwtVerifierOptions {
  /** Loads the current JWKS (identity's GetJwks, or its /.well-known/jwks.json). */
  getJwks: () => Promise<JSONWebKeySet>;
  /** Required `iss`. */
  issuer: string;
  /** Required `aud`. */
  audience: string;
  /**
   * Least time between two JWKS loads caused by tokens with an unknown kid, in milliseconds (default 30_000),
   * so a flood of forged kids cannot turn into a flood of JWKS requests.
   */
  refreshMs?: number;
  /**
   * How long a loaded JWKS is used before it is loaded again, in milliseconds (default 300_000). This is how
   * soon a key removed from the JWKS stops verifying. A failed reload keeps the old keys.
   */
  maxAgeMs?: number;
  /** Allowed clock skew for exp/nbf, in seconds (default 5). */
  clockToleranceSeconds?: number;
  /** Default: the system clock. */
  clock?: () => Date;
}

/** Verifies access tokens; see {@link createJwtVerifier}. */
export interface JwtVerifier {
  /**
   * The principal of a valid access token. Throws ConnectError Unauthenticated (reason UNAUTHENTICATED) for
   * any invalid token, without the token in the message; Unavailable when no JWKS could be loaded at all.
   */
  verify(token: string): Promise<Principal>;
}

// Far larger than any token identity issues; bounds the work an attacker can cause per request.
const MAX_TOKEN_LENGTH = 8192;

/**
 * Verifies EdDSA (Ed25519) access tokens against a cached JWKS. The algorithm is pinned: `none` in any
 * spelling, HMAC (including HS256 signed with the public key as the secret) and every other alg are refused
 * before a key is chosen. `kid` is required and must name an Ed25519 key of the set; an unknown kid reloads the
 * set at most once per `refreshMs`, so a freshly rotated key is picked up. Checks `typ` at+jwt, `iss`, `aud`,
 * `exp`, `nbf`; `sub` is the user id (or "service:<name>" with claim `svc` for service tokens), `roles` the
 * user's roles (unknown roles are dropped).
 */
export function createJwtVerifier(opts: JwtVerifierOptions): JwtVerifier {
  const refreshMs = opts.refreshMs ?? 30_000;
  const maxAgeMs = opts.maxAgeMs ?? 300_000;
  const clock = opts.clock ?? (() => new Date());
  const tolerance = opts.clockToleranceSeconds ?? 5;
  let keys: Map<string, CryptoKey> | undefined;
  let loadedAt = 0;
  let lastAttempt = Number.NEGATIVE_INFINITY;
  let loading: Promise<void> | undefined;

  // Single flight: concurrent callers share one load.
  function reload(): Promise<void> {
    loading ??= (async () => {
      const now = clock().getTime();
      lastAttempt = now;
      try {
        keys = await importKeys(await opts.getJwks());
        loadedAt = now;
      } catch (err) {
        // Keep verifying with the keys we have; only a verifier that never loaded any has to give up.
        if (keys === undefined) {
          throw connectError(
            Code.Unavailable,
            "UNAVAILABLE",
            "signing keys are not available",
            {},
            { cause: err },
          );
        }
      }
    })().finally(() => {
      loading = undefined;
    });
    return loading;
  }

  async function keyFor(kid: string): Promise<CryptoKey> {
    const now = clock().getTime();
    if (keys === undefined) {
      await reload();
    } else if (now - loadedAt >= maxAgeMs && now - lastAttempt >= refreshMs) {
      // Stale: reload (a failed reload keeps the old keys and is retried at most once per refreshMs).
      await reload();
    }
    let key = keys?.get(kid);
    if (key === undefined && now - lastAttempt >= refreshMs) {
      await reload();
      key = keys?.get(kid);
    }
    if (key === undefined) throw unauthenticated("invalid access token: unknown signing key");
    return key;
  }

  return {
    async verify(token) {
      if (typeof token !== "string" || token.length === 0 || token.length > MAX_TOKEN_LENGTH) {
        throw unauthenticated("invalid access token: malformed");
      }
      let header: ReturnType<typeof decodeProtectedHeader>;
      try {
        header = decodeProtectedHeader(token);
      } catch (err) {
        throw unauthenticated("invalid access token: malformed", err);
      }
      if (header.alg !== ACCESS_TOKEN_ALG)
        throw unauthenticated("invalid access token: algorithm not allowed");
      if (typeof header.kid !== "string" || header.kid === "") {
        throw unauthenticated("invalid access token: kid missing");
      }
      const key = await keyFor(header.kid);
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, key, {
          algorithms: [ACCESS_TOKEN_ALG],
          typ: ACCESS_TOKEN_TYP,
          issuer: opts.issuer,
          audience: opts.audience,
          currentDate: clock(),
          clockTolerance: tolerance,
          requiredClaims: ["exp", "sub"],
        }));
      } catch (err) {
        throw unauthenticated(`invalid access token: ${reasonOf(err)}`, err);
      }
      return principalOf(payload);
    },
  };
}

async function importKeys(jwks: JSONWebKeySet): Promise<Map<string, CryptoKey>> {
  const keys = new Map<string, CryptoKey>();
  for (const jwk of jwks.keys ?? []) {
    if (!usable(jwk)) continue;
    const key = await importJWK({ kty: jwk.kty, crv: jwk.crv, x: jwk.x }, ACCESS_TOKEN_ALG);
    // importJWK returns bytes only for symmetric keys, which usable() has ruled out.
    if (!(key instanceof Uint8Array)) keys.set(jwk.kid, key);
  }
  return keys;
}

type UsableJwk = JWK & { kid: string; kty: "OKP"; crv: "Ed25519"; x: string };

function usable(jwk: JWK): jwk is UsableJwk {
  return (
    jwk.kty === "OKP" &&
    jwk.crv === "Ed25519" &&
    typeof jwk.x === "string" &&
    typeof jwk.kid === "string" &&
    jwk.kid !== "" &&
    (jwk.alg === undefined || jwk.alg === ACCESS_TOKEN_ALG) &&
    (jwk.use === undefined || jwk.use === "sig") &&
    jwk.d === undefined
  );
}

function principalOf(payload: JWTPayload): Principal {
  const sub = payload.sub ?? "";
  const svc = payload.svc;
  if (svc !== undefined) {
    if (typeof svc !== "string" || svc === "" || sub !== `${SERVICE_SUBJECT_PREFIX}${svc}`) {
      throw unauthenticated("invalid access token: bad service claims");
    }
    return { kind: "service", service: svc };
  }
  if (sub === "" || sub.startsWith(SERVICE_SUBJECT_PREFIX))
    throw unauthenticated("invalid access token: bad subject");
  const roles = payload.roles ?? [];
  if (!Array.isArray(roles)) throw unauthenticated("invalid access token: bad roles");
  return { kind: "user", userId: sub, roles: roles.filter(isRole) satisfies Role[], credential: "jwt" };
}

// A short, token-free reason for logs and the client; jose errors are told apart by their `code`.
function reasonOf(err: unknown): string {
  const code = err instanceof Error && "code" in err ? err.code : undefined;
  switch (code) {
    case errors.JWTExpired.code:
      return "expired";
    case errors.JWTClaimValidationFailed.code:
      return `${err instanceof errors.JWTClaimValidationFailed ? err.claim : "claim"} check failed`;
    case errors.JWSSignatureVerificationFailed.code:
      return "bad signature";
    case errors.JOSEAlgNotAllowed.code:
      return "algorithm not allowed";
    default:
      return "malformed";
  }
}
