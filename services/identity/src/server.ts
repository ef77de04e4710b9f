import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  checkUserAccess,
  createAuthenticator,
  createAuthInterceptor,
  createJwtVerifier,
  createUserAccessCache,
  followUserChanges,
} from "@fintech/auth";
import { createOutboxRelay, relaySettings } from "@fintech/events";
import type { Clock, ListenOptions, ListenResult } from "@fintech/platform";
import { createReadiness, createServer } from "@fintech/platform";
import { file_fintech_identity_v1_events } from "@fintech/proto/fintech/identity/v1/events_pb.js";
import type { NatsConnection } from "@nats-io/transport-node";
import type pg from "pg";
import type { Logger } from "pino";
import type { IdentityConfig } from "./config.js";
import { toConnectError } from "./errors.js";
import { createIdentityService } from "./identity-service.js";
import type { PasswordHasher } from "./passwords.js";
import { createPasswordHasher } from "./passwords.js";
import { identityAccess, identityRoutes, PUBLIC_METHODS } from "./routes.js";
import { createSigningKeyRing } from "./signing-keys.js";
import { identityValidation } from "./validation.js";

/** The identity service's SQL migrations. */
export const migrationsDir = join(dirname(fileURLToPath(import.meta.url)), "..", "migrations");

export interface IdentityDeps {
  pool: pg.Pool;
  nc: NatsConnection;
  logger: Logger;
  clock: Clock;
  /** Default: argon2id with the OWASP parameters. */
  hasher?: PasswordHasher;
}

/**
 * Builds the identity service, unstarted: its gRPC server, its outbox relay and its signing keys. start()
 * creates the first signing key and the configured admin when missing. Migrations and the event stream are the
 * caller's (main.ts, or a test's fixtures).
 */
export function build(config: IdentityConfig, deps: IdentityDeps) {
  const { pool, nc, logger, clock } = deps;
  const hasher = deps.hasher ?? createPasswordHasher({ concurrency: config.HASH_CONCURRENCY });
  const keys = createSigningKeyRing({
    pool,
    clock,
    settings: {
      accessTtlMs: config.ACCESS_TOKEN_TTL_SECONDS * 1000,
      activationDelayMs: config.SIGNING_KEY_ACTIVATION_DELAY_SECONDS * 1000,
      cacheMs: config.SIGNING_KEY_CACHE_MS,
    },
  });
  const service = createIdentityService({
    pool,
    clock,
    hasher,
    keys,
    // Its own changes apply to its own callers at once; the event tells every other process (and replica).
    userChanged: (id) => userAccess.changed(id),
    settings: {
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      accessTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
      refreshTtlMs: config.REFRESH_TOKEN_TTL_DAYS * 86_400_000,
      serviceTokenTtlSeconds: config.SERVICE_TOKEN_TTL_SECONDS,
      throttle: {
        freeAttempts: config.LOGIN_FREE_ATTEMPTS,
        baseMs: config.LOGIN_BACKOFF_BASE_MS,
        maxMs: config.LOGIN_BACKOFF_MAX_SECONDS * 1000,
        resetAfterMs: config.LOGIN_FAILURE_RESET_SECONDS * 1000,
      },
      serviceCredentials: config.SERVICE_CREDENTIALS,
    },
  });
  // A user's status, roles and token revocation, read from the store at most every few seconds per user (and
  // again at once on identity.user.* events, heard by every replica) rather than on every request.
  const userAccess = createUserAccessCache({
    lookup: async (id) => {
      const access = await service.userAccess(id);
      return {
        active: access.active,
        roles: access.roles,
        ...(access.tokensRevokedAt === null ? {} : { tokensRevokedAtMs: access.tokensRevokedAt.getTime() }),
      };
    },
    clock: () => clock.now(),
  });
  let stopFollowing: (() => void) | undefined;
  // identity checks its own callers like every other service, reading its own keys instead of the RPC.
  const auth = createAuthInterceptor({
    authenticator: checkUserAccess(
      createAuthenticator({
        jwt: createJwtVerifier({
          getJwks: () => keys.jwks({ fresh: true }),
          issuer: config.JWT_ISSUER,
          audience: config.JWT_AUDIENCE,
          clock: () => clock.now(),
        }),
        verifyApiKey: async (key) => {
          try {
            const { user } = await service.verifyApiKey(key);
            return { kind: "user", userId: user.id, roles: user.roles, credential: "api_key" };
          } catch (err) {
            if (err instanceof Error && err.name === "IdentityError") return undefined;
            throw err;
          }
        },
        // The database is right here: no reason to let a revoked key work a moment longer.
        apiKeyCacheMs: 0,
        clock: () => clock.now(),
      }),
      userAccess,
    ),
    publicMethods: PUBLIC_METHODS,
  });
  const server = createServer({
    name: "identity",
    routes: identityRoutes(service),
    files: [file_fintech_identity_v1_events],
    logger,
    mapError: toConnectError,
    interceptors: [auth, identityAccess, identityValidation],
    metricsPort: config.METRICS_PORT,
    reflection: config.GRPC_REFLECTION,
    maxConnectionAgeMs: config.MAX_CONNECTION_AGE_MS,
    readiness: createReadiness({ db: pool, nats: nc }),
  });
  const relay = createOutboxRelay({
    pool,
    nc,
    source: "identity",
    logger,
    ...relaySettings(config),
  });

  return {
    service,
    keys,
    server,
    relay,
    async start(listen: ListenOptions = { port: config.PORT, host: config.HOST }): Promise<ListenResult> {
      if (await keys.ensure()) logger.info("first signing key created");
      if (config.ADMIN_EMAIL !== undefined && config.ADMIN_PASSWORD !== undefined) {
        if (await service.ensureAdmin(config.ADMIN_EMAIL, config.ADMIN_PASSWORD)) {
          logger.info("admin account created from ADMIN_EMAIL");
        }
      }
      relay.start();
      stopFollowing ??= followUserChanges(nc, userAccess, { namespace: config.EVENTS_NAMESPACE, logger });
      return server.listen(listen);
    },
    async stop(): Promise<void> {
      stopFollowing?.();
      stopFollowing = undefined;
      await server.close();
      await relay.stop();
    },
  };
}
