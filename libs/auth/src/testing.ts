// For tests of services that verify callers: a private signing key, the authenticator a service would
// build from identity's JWKS, and tokens for any principal. Exported as "@fintech/auth/testing".
import type { Interceptor } from "@connectrpc/connect";
import { exportJWK, generateKeyPair } from "jose";
import { signAccessToken } from "./access-token.js";
import type { Authenticator } from "./authenticator.js";
import { createAuthenticator } from "./authenticator.js";
import { createJwtVerifier } from "./jwt-verifier.js";
import type { Principal, Role } from "./principal.js";

export interface TestAuth {
  /** Verifies tokens signed by {@link TestAuth.token}, as a service's authenticator would. */
  authenticator: Authenticator;
  /** An access token for the principal, valid for an hour. */
  token(principal: Principal): Promise<string>;
  /** A client interceptor that calls as the principal. */
  as(principal: Principal): Interceptor;
}

const ISSUER = "fintech-identity";
const AUDIENCE = "fintech";

export const testUser = (userId: string, roles: readonly Role[] = ["user"]): Principal => ({
  kind: "user",
  userId,
  roles,
  credential: "jwt",
});

export const testService = (service: string): Principal => ({ kind: "service", service });

/** A fresh Ed25519 key and an authenticator trusting only it. */
export async function createTestAuth(): Promise<TestAuth> {
  const { privateKey, publicKey } = await generateKeyPair("EdDSA");
  const jwk = { ...(await exportJWK(publicKey)), kid: "test-key", alg: "EdDSA", use: "sig" };
  const authenticator = createAuthenticator({
    jwt: createJwtVerifier({ getJwks: async () => ({ keys: [jwk] }), issuer: ISSUER, audience: AUDIENCE }),
  });
  const token = async (principal: Principal) =>
    (
      await signAccessToken({
        privateKey,
        kid: jwk.kid,
        issuer: ISSUER,
        audience: AUDIENCE,
        principal,
        ttlSeconds: 3600,
        now: new Date(),
      })
    ).token;
  return {
    authenticator,
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
