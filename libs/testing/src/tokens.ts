// Access tokens for tests, signed as identity signs them (EdDSA, kid, typ at+jwt, issuer and audience), with a
// key of the test's own. A service under test trusts that key through `authenticator`, as it would trust
// identity's JWKS; a service in a child process trusts it through `trustingAuthenticator(publicJwk)`.
// Also exported as "@fintech/testing/tokens", without the vitest fixtures the package index loads, for
// processes that run outside vitest.
import type { Interceptor } from "@connectrpc/connect";
import type { Authenticator, Principal, Role } from "@fintech/auth";
import { createAuthenticator, createJwtVerifier, signAccessToken } from "@fintech/auth";
import type { CryptoKey, JWK } from "jose";
import { exportJWK, generateKeyPair } from "jose";

/** The `iss` identity writes by default, which every service's config expects (JWT_ISSUER). */
export const TEST_ISSUER = "fintech-identity";
/** The `aud` identity writes by default, which every service's config expects (JWT_AUDIENCE). */
export const TEST_AUDIENCE = "fintech";

/** A user holding `roles` (default just "user"), as a bearer token names them. */
export const testUser = (userId: string, roles: readonly Role[] = ["user"]): Principal => ({
  kind: "user",
  userId,
  roles,
  credential: "jwt",
});

/** A user with the admin role (and the user role, as identity gives every admin). */
export const testAdmin = (userId: string): Principal => testUser(userId, ["user", "admin"]);

/** Another service, calling with a service token. */
export const testService = (service: string): Principal => ({ kind: "service", service });

/** Options for {@link TestTokens.token}. */
export interface TokenOptions {
  /** Lifetime in seconds; default 3600. */
  ttlSeconds?: number;
  /** Issue time (`iat`, `nbf`, and `exp` from it); default now. */
  now?: Date;
}

/** A signing key of the test's own and what verifies it; see {@link createTestTokens}. */
export interface TestTokens {
  /** The key id in every token's header and in {@link publicJwk}. */
  readonly kid: string;
  /** The Ed25519 private key (extractable), for tests that craft a token by hand. */
  readonly privateKey: CryptoKey;
  /** The public key as identity's JWKS would list it (kid, alg EdDSA, use sig). */
  readonly publicJwk: JWK;
  /** Verifies this key's tokens, and no other's, as a service's authenticator verifies identity's. */
  readonly authenticator: Authenticator;
  /** An access token for `principal` (default the user "user-1"), valid for an hour unless `opts` say otherwise. */
  token(principal?: Principal, opts?: TokenOptions): Promise<string>;
  /** A Connect client interceptor that calls as `principal`, with a token minted once. */
  as(principal: Principal): Interceptor;
}

/** A fresh Ed25519 signing key named `kid` (default "test-key"), and an authenticator trusting only it. */
export async function createTestTokens(opts: { kid?: string } = {}): Promise<TestTokens> {
  const kid = opts.kid ?? "test-key";
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", { extractable: true });
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: "EdDSA", use: "sig" };
  const token = async (principal: Principal = testUser("user-1"), tokenOpts: TokenOptions = {}) =>
    (
      await signAccessToken({
        privateKey,
        kid,
        issuer: TEST_ISSUER,
        audience: TEST_AUDIENCE,
        principal,
        ttlSeconds: tokenOpts.ttlSeconds ?? 3600,
        now: tokenOpts.now ?? new Date(),
      })
    ).token;
  return {
    kid,
    privateKey,
    publicJwk,
    authenticator: trustingAuthenticator(publicJwk),
    token,
    as(principal) {
      const pending = token(principal);
      return (next) => async (req) => {
        req.header.set("authorization", `Bearer ${await pending}`);
        return next(req);
      };
    },
  };
}

/**
 * An authenticator trusting the one key `jwk` (a {@link TestTokens.publicJwk}, e.g. passed to a child process
 * in its environment), with identity's issuer and audience. API keys are refused.
 */
export function trustingAuthenticator(jwk: JWK): Authenticator {
  return createAuthenticator({
    jwt: createJwtVerifier({
      getJwks: async () => ({ keys: [jwk] }),
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
    }),
  });
}
