import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Authenticator } from "@fintech/auth";
import { createAuthInterceptor, defineAccess } from "@fintech/auth";
import { createOutboxRelay, relaySettings } from "@fintech/events";
import type { Clock, ListenOptions, ListenResult } from "@fintech/platform";
import { createReadiness, createServer } from "@fintech/platform";
import { file_fintech_fx_v1_events } from "@fintech/proto/fintech/fx/v1/events_pb.js";
import { FxService } from "@fintech/proto/fintech/fx/v1/fx_pb.js";
import type { NatsConnection } from "@nats-io/transport-node";
import type pg from "pg";
import type { Logger } from "pino";
import type { FxConfig } from "./config.js";
import { toConnectError } from "./errors.js";
import { createFxService } from "./fx-service.js";
import { fxRoutes } from "./routes.js";
import { fxValidation } from "./validation.js";

/** The fx service's SQL migrations. */
export const migrationsDir = join(dirname(fileURLToPath(import.meta.url)), "..", "migrations");

export interface FxDeps {
  pool: pg.Pool;
  /** Verifies every caller (see connectIdentity); any user or service may read, only admins set rates. */
  authenticator: Authenticator;
  nc: NatsConnection;
  logger: Logger;
  clock: Clock;
}

/**
 * Builds the fx service, unstarted: its gRPC server and its outbox relay. Migrations and the event stream
 * are the caller's (main.ts, or a test's fixtures).
 */
export function build(config: FxConfig, deps: FxDeps) {
  const { pool, nc, logger, clock, authenticator } = deps;
  const service = createFxService({
    pool,
    clock,
    settings: {
      pivot: config.FX_PIVOT_CURRENCY,
      quoteTtlMs: config.FX_QUOTE_TTL_SECONDS * 1000,
      spreadBps: config.FX_SPREAD_BPS,
      rateCacheTtlMs: config.FX_RATE_CACHE_TTL_MS,
    },
  });
  const server = createServer({
    name: "fx",
    routes: fxRoutes(service, { pivot: config.FX_PIVOT_CURRENCY }),
    files: [file_fintech_fx_v1_events],
    logger,
    mapError: toConnectError,
    interceptors: [createAuthInterceptor({ authenticator }), fxAccess, fxValidation],
    metricsPort: config.METRICS_PORT,
    reflection: config.GRPC_REFLECTION,
    maxConnectionAgeMs: config.MAX_CONNECTION_AGE_MS,
    readiness: createReadiness({ db: pool, nats: nc }),
  });
  const relay = createOutboxRelay({
    pool,
    nc,
    source: "fx",
    logger,
    ...relaySettings(config),
  });

  return {
    service,
    server,
    relay,
    async start(listen: ListenOptions = { port: config.PORT, host: config.HOST }): Promise<ListenResult> {
      relay.start();
      return server.listen(listen);
    },
    async stop(): Promise<void> {
      await server.close();
      await relay.stop();
    },
  };
}

// Who may call what, checked before validation. Rates and quotes are for any caller; a quote is its creator's
// (routes.ts). RedeemQuote and Convert are the wallet's steps of a conversion, never a user's: a user converts
// through the wallet, which checks the balance and moves the money.
const fxAccess = defineAccess(FxService, {
  listCurrencies: "authenticated",
  listRates: "authenticated",
  getRate: "authenticated",
  listRateHistory: "authenticated",
  setRate: "admin",
  createQuote: "authenticated",
  getQuote: "authenticated",
  redeemQuote: "service",
  convert: "service",
});
