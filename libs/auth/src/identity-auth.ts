import type { Interceptor, Transport } from "@connectrpc/connect";
import { createClient } from "@connectrpc/connect";
import type { InProcessTransport } from "@fintech/platform";
import { createServiceTransport, envInt, observeClientCalls, serviceUrlsEnv } from "@fintech/platform";
import { IdentityService } from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import type { Logger } from "pino";
import { z } from "zod";
import type { Authenticator } from "./authenticator.js";
import { createAuthenticator } from "./authenticator.js";
import type { UserChangeConnection } from "./follow-user-changes.js";
import { followUserChanges } from "./follow-user-changes.js";
import {
  identityApiKeyVerifier,
  identityJwks,
  identityTokenIssuer,
  identityUserAccess,
} from "./identity-client.js";
import { createJwtVerifier } from "./jwt-verifier.js";
import { rememberBearer } from "./remember-bearer.js";
import type { ServiceCredentials } from "./service-credentials.js";
import { createServiceCredentials } from "./service-credentials.js";
import type { UserAccessCache } from "./user-access.js";
import { checkUserAccess, createUserAccessCache } from "./user-access.js";

/**
 * The environment every service reads to verify its callers and to call others as itself; spread it into
 * the service's own env schema. SERVICE_CLIENT_ID defaults to the service's name.
 */
export function authEnv(serviceName: string) {
  return {
    ...serviceUrlsEnv("identity"),
    /** Access tokens must carry this `iss` and `aud` (identity's JWT_ISSUER / JWT_AUDIENCE). */
    JWT_ISSUER: z.string().min(1).default("fintech-identity"),
    JWT_AUDIENCE: z.string().min(1).default("fintech"),
    /** This service's credentials at identity (one entry of identity's SERVICE_CREDENTIALS). */
    SERVICE_CLIENT_ID: z.string().min(1).default(serviceName),
    SERVICE_CLIENT_SECRET: z.string().default(""),
    /** How long an API key's answer from identity is reused, in milliseconds. */
    API_KEY_CACHE_TTL_MS: envInt(10_000, { min: 0, max: 600_000 }),
    /**
     * How long a user's status and roles from identity are reused, in milliseconds: the longest a suspension,
     * deletion or role change takes to apply when its identity.user.* event is missed.
     */
    USER_ACCESS_CACHE_MS: envInt(5_000, { min: 0, max: 5_000 }),
  };
}

/** The values of {@link authEnv}. */
export interface AuthConfig {
  IDENTITY_URL: string;
  JWT_ISSUER: string;
  JWT_AUDIENCE: string;
  SERVICE_CLIENT_ID: string;
  SERVICE_CLIENT_SECRET: string;
  API_KEY_CACHE_TTL_MS: number;
  /** Default 5000. */
  USER_ACCESS_CACHE_MS?: number;
  /** How often a host name in IDENTITY_URL is looked up again, in ms (default 30000). */
  UPSTREAM_RESOLVE_MS?: number;
}

/** A transport to identity carrying the given interceptors. */
export type TransportFactory = (baseUrl: string, interceptors: Interceptor[]) => Transport;

/** Connect over HTTP/2, balanced over identity's replicas (createServiceTransport). */
const connectOverH2 =
  (resolveIntervalMs: number | undefined): TransportFactory =>
  (baseUrl, interceptors) =>
    createServiceTransport(baseUrl, {
      name: "identity",
      interceptors: [observeClientCalls, ...interceptors],
      ...(resolveIntervalMs === undefined ? {} : { resolveIntervalMs }),
    });

/**
 * A service's link to identity: an authenticator verifying access tokens locally against identity's JWKS
 * (GetJwks, cached, reloaded on an unknown kid) and API keys through identity's VerifyApiKey (cached for
 * API_KEY_CACHE_TTL_MS), accepted bearer tokens remembered briefly (rememberBearer: an Ed25519
 * verification costs more than most RPCs' own work), every user credential checked against the user's current
 * status, roles and token revocation (GetUserAccess, reused for USER_ACCESS_CACHE_MS, and looked up again at
 * once on identity's identity.user.* events when `events` gives a NATS connection; the subscription ends with
 * the connection), and this service's own credentials (a service token from
 * IssueServiceToken, renewed before expiry) for calling identity and other services as itself. Without
 * SERVICE_CLIENT_SECRET there are no service credentials, API keys are refused and users' tokens are trusted
 * until they expire (a warning says so). Identity is reached at IDENTITY_URL, or through `identity` when it runs
 * in the same process (its server's in-process transport, with the same checks).
 */
export function connectIdentity(
  config: AuthConfig,
  opts: {
    logger: Logger;
    transport?: TransportFactory;
    /** Identity in this process: its in-process transport, used instead of IDENTITY_URL and `transport`. */
    identity?: InProcessTransport;
    clock?: () => Date;
    /** Where identity's events are heard (the service's NATS connection and EVENTS_NAMESPACE). */
    events?: { nc: UserChangeConnection; namespace?: string };
  },
): {
  authenticator: Authenticator;
  credentials: ServiceCredentials | undefined;
  userAccess: UserAccessCache | undefined;
} {
  const inProcess = opts.identity;
  const transport: TransportFactory =
    inProcess === undefined
      ? (opts.transport ?? connectOverH2(config.UPSTREAM_RESOLVE_MS))
      : (_url, interceptors) => inProcess({ interceptors: [observeClientCalls, ...interceptors] });
  const identity = createClient(IdentityService, transport(config.IDENTITY_URL, []));
  const jwt = createJwtVerifier({
    getJwks: identityJwks(identity),
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    ...(opts.clock === undefined ? {} : { clock: opts.clock }),
  });
  if (config.SERVICE_CLIENT_SECRET === "") {
    opts.logger.warn(
      "SERVICE_CLIENT_SECRET is not set: API keys are refused, suspended users' tokens work until they expire and calls to other services go out anonymous",
    );
    return { authenticator: createAuthenticator({ jwt }), credentials: undefined, userAccess: undefined };
  }
  const credentials = createServiceCredentials({
    issue: identityTokenIssuer(identity, {
      clientId: config.SERVICE_CLIENT_ID,
      clientSecret: config.SERVICE_CLIENT_SECRET,
    }),
  });
  const asService = createClient(IdentityService, transport(config.IDENTITY_URL, [credentials.interceptor]));
  const authenticator = createAuthenticator({
    jwt,
    verifyApiKey: identityApiKeyVerifier(asService),
    apiKeyCacheMs: config.API_KEY_CACHE_TTL_MS,
  });
  const userAccess = createUserAccessCache({
    lookup: identityUserAccess(asService),
    ttlMs: config.USER_ACCESS_CACHE_MS ?? 5_000,
    ...(opts.clock === undefined ? {} : { clock: opts.clock }),
  });
  if (opts.events !== undefined) {
    followUserChanges(opts.events.nc, userAccess, {
      logger: opts.logger,
      ...(opts.events.namespace === undefined ? {} : { namespace: opts.events.namespace }),
    });
  }
  return {
    authenticator: checkUserAccess(rememberBearer(authenticator), userAccess),
    credentials,
    userAccess,
  };
}
