// The test key pair every test ledger trusts, apart from harness.ts so that child processes (crash-child.ts) can
// use it without loading vitest; the child trusts the parent's key, which @fintech/auth/testing cannot share.
import type { JsonWebKey } from "node:crypto";
import { generateKeyPairSync } from "node:crypto";
import type { Authenticator, Principal } from "@fintech/auth";
import { createAuthenticator, createJwtVerifier, rememberBearer, signAccessToken } from "@fintech/auth";

export const ISSUER = "fintech-identity";
export const AUDIENCE = "fintech";
const KID = "ledger-test-key";
const keys = generateKeyPairSync("ed25519");
/** The public key the harness's ledgers trust, as a JWK (child processes get it through the environment). */
export const testJwk = { ...keys.publicKey.export({ format: "jwk" }), kid: KID, alg: "EdDSA", use: "sig" };

/** An access token for `principal`, signed with the test key the harness's ledger trusts. */
export async function tokenFor(principal: Principal): Promise<string> {
  const { token } = await signAccessToken({
    privateKey: keys.privateKey,
    kid: KID,
    issuer: ISSUER,
    audience: AUDIENCE,
    principal,
    ttlSeconds: 3600,
    now: new Date(),
  });
  return token;
}

/** The production authenticator (real JWT verification, accepted tokens remembered) over the test key. */
export function testAuthenticator(jwk: JsonWebKey = testJwk): Authenticator {
  const jwt = createJwtVerifier({
    getJwks: async () => ({ keys: [jwk] }),
    issuer: ISSUER,
    audience: AUDIENCE,
  });
  return rememberBearer(createAuthenticator({ jwt }));
}
