export type { Access, AccessPolicies } from "./access-policy.js";
export { authorize, defineAccess } from "./access-policy.js";
export type { SignAccessTokenOptions } from "./access-token.js";
export {
  ACCESS_TOKEN_ALG,
  ACCESS_TOKEN_TYP,
  SERVICE_SUBJECT_PREFIX,
  signAccessToken,
} from "./access-token.js";
export type { AuditedChange } from "./audit-event.js";
export { auditEvent, auditSubject } from "./audit-event.js";
export type { AuditOrigin } from "./audit-origin.js";
export { auditOrigin } from "./audit-origin.js";
export type { AuthInterceptorOptions } from "./auth-interceptor.js";
export { createAuthInterceptor } from "./auth-interceptor.js";
export type { Authenticator, AuthenticatorOptions } from "./authenticator.js";
export { createAuthenticator } from "./authenticator.js";
export {
  clientIpKey,
  FORWARDED_BY_HEADER,
  FORWARDED_FOR_HEADER,
  getClientIp,
  singleAddress,
} from "./client-ip.js";
export { FORBIDDEN, forbidden, UNAUTHENTICATED, unauthenticated } from "./errors.js";
export type {
  IdentityUserListener,
  IdentityUserMessage,
  UserChangeConnection,
} from "./follow-user-changes.js";
export { followIdentityUsers, followUserChanges } from "./follow-user-changes.js";
export { FORWARDED_HEADERS, forwardCredentials } from "./forward-credentials.js";
export type { AuthConfig, TransportFactory } from "./identity-auth.js";
export { authEnv, connectIdentity } from "./identity-auth.js";
export type { IdentityClient } from "./identity-client.js";
export {
  identityApiKeyVerifier,
  identityJwks,
  identityTokenIssuer,
  identityUserAccess,
  roleFromProto,
  roleToProto,
} from "./identity-client.js";
export type { JwtVerifier, JwtVerifierOptions } from "./jwt-verifier.js";
export { createJwtVerifier } from "./jwt-verifier.js";
export type { Principal, Role, ServicePrincipal, UserPrincipal, WithContextValues } from "./principal.js";
export {
  getPrincipal,
  isOwnerOrAdmin,
  isRole,
  principalKey,
  ROLES,
  requireAdmin,
  requireService,
  requireUser,
} from "./principal.js";
export { rememberBearer } from "./remember-bearer.js";
export type { ServiceCredentials, ServiceCredentialsOptions } from "./service-credentials.js";
export { createServiceCredentials } from "./service-credentials.js";
export type { UserAccess, UserAccessCache, UserAccessCacheOptions } from "./user-access.js";
export {
  checkUserAccess,
  createUserAccessCache,
  parseUserAccessHeader,
  USER_ACCESS_HEADER,
  userAccessHeader,
} from "./user-access.js";
