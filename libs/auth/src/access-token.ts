import { randomUUID } from "node:crypto";
import type { CryptoKey, KeyObject } from "jose";
import { SignJWT } from "jose";
import type { Principal } from "./principal.js";

/** The only signature algorithm access tokens use (Ed25519). */
export const ACCESS_TOKEN_ALG = "EdDSA";
/** The `typ` header of access tokens (RFC 9068), so no other JWT signed by the same key passes as one. */
export const ACCESS_TOKEN_TYP = "at+jwt";
/** Service tokens have `sub` = this prefix + the service name, and the service name in the `svc` claim. */
export const SERVICE_SUBJECT_PREFIX = "service:";

/** Options for {@link signAccessToken}. */
export interface SignAccessTokenOptions {
  /** The Ed25519 private key. */
  privateKey: CryptoKey | KeyObject;
  /** The key's id, written into the header and looked up in the JWKS by verifiers. */
  kid: string;
  issuer: string;
  audience: string;
  /** A user (claims `sub` = user id, `roles`) or a service (`sub` = "service:<name>", `svc`). */
  principal: Principal;
  /** Lifetime in seconds. */
  ttlSeconds: number;
  /** Issue time; `iat`, `nbf` and `exp` derive from it. */
  now: Date;
}

/**
 * Signs an access token in the one format {@link createJwtVerifier} accepts: EdDSA, `kid` and `typ: at+jwt` in
 * the header, `iss`, `aud`, `sub`, `iat`, `nbf`, `exp` and a random `jti`. Returns the compact JWT and when it expires.
 */
export async function signAccessToken(
  opts: SignAccessTokenOptions,
): Promise<{ token: string; expiresAt: Date }> {
  const iat = Math.floor(opts.now.getTime() / 1000);
  const exp = iat + opts.ttlSeconds;
  const p = opts.principal;
  const claims = p.kind === "user" ? { roles: [...p.roles] } : { svc: p.service, roles: [] as string[] };
  const subject = p.kind === "user" ? p.userId : `${SERVICE_SUBJECT_PREFIX}${p.service}`;
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: ACCESS_TOKEN_ALG, kid: opts.kid, typ: ACCESS_TOKEN_TYP })
    .setIssuer(opts.issuer)
    .setAudience(opts.audience)
    .setSubject(subject)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(exp)
    .setJti(randomUUID())
    .sign(opts.privateKey);
  return { token, expiresAt: new Date(exp * 1000) };
}
