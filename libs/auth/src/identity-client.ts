import type { Client } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import type { IdentityService } from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import { Role as RoleEnum } from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import type { JSONWebKeySet } from "jose";
import type { Principal, Role } from "./principal.js";
import type { UserAccess } from "./user-access.js";

/** A Connect client of identity's IdentityService (createClient(IdentityService, transport)). */
export type IdentityClient = Client<typeof IdentityService>;

/** The library's role for a protobuf Role, undefined for ROLE_UNSPECIFIED or an unknown value. */
export function roleFromProto(role: RoleEnum): Role | undefined {
  switch (role) {
    case RoleEnum.USER:
      return "user";
    case RoleEnum.ADMIN:
      return "admin";
    default:
      return undefined;
  }
}

/** The protobuf Role of a role. */
export function roleToProto(role: Role): RoleEnum {
  return role === "admin" ? RoleEnum.ADMIN : RoleEnum.USER;
}

/** `getJwks` for createJwtVerifier reading identity's GetJwks over RPC. */
export function identityJwks(client: IdentityClient): () => Promise<JSONWebKeySet> {
  return async () => {
    const res = await client.getJwks({});
    return {
      keys: res.keys.map((k) => ({ kty: k.kty, crv: k.crv, x: k.x, kid: k.kid, alg: k.alg, use: k.use })),
    };
  };
}

/**
 * `verifyApiKey` for createAuthenticator calling identity's VerifyApiKey (the client's transport must carry
 * this service's credentials, see createServiceCredentials). Identity's Unauthenticated answer becomes
 * undefined (a bad key, cached like a good one); other failures propagate and are not cached.
 */
export function identityApiKeyVerifier(
  client: IdentityClient,
): (key: string) => Promise<Principal | undefined> {
  return async (key) => {
    try {
      const res = await client.verifyApiKey({ key });
      const roles = res.roles.map(roleFromProto).filter((r) => r !== undefined);
      return { kind: "user", userId: res.userId, roles, credential: "api_key" };
    } catch (err) {
      if (err instanceof ConnectError && err.code === Code.Unauthenticated) return undefined;
      throw err;
    }
  };
}

/**
 * `lookup` for createUserAccessCache calling identity's GetUserAccess (the client's transport must carry this
 * service's credentials). Failures propagate: a user's request is refused rather than let through unchecked.
 */
export function identityUserAccess(client: IdentityClient): (userId: string) => Promise<UserAccess> {
  return async (userId) => {
    const res = await client.getUserAccess({ userId });
    const revokedAt = res.tokensRevokedAt;
    return {
      active: res.active,
      roles: res.roles.map(roleFromProto).filter((r) => r !== undefined),
      ...(revokedAt === undefined
        ? {}
        : { tokensRevokedAtMs: Number(revokedAt.seconds) * 1000 + Math.floor(revokedAt.nanos / 1e6) }),
    };
  };
}

/** `issue` for createServiceCredentials calling identity's IssueServiceToken with this service's credentials. */
export function identityTokenIssuer(
  client: IdentityClient,
  credentials: { clientId: string; clientSecret: string },
): () => Promise<{ token: string; expiresAt: Date }> {
  return async () => {
    const res = await client.issueServiceToken({
      clientId: credentials.clientId,
      clientSecret: credentials.clientSecret,
    });
    const expiresAt =
      res.expiresAt === undefined
        ? new Date(Date.now() + res.expiresIn * 1000)
        : new Date(Number(res.expiresAt.seconds) * 1000 + Math.floor(res.expiresAt.nanos / 1e6));
    return { token: res.accessToken, expiresAt };
  };
}
