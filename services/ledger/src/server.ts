import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Authenticator } from "@fintech/auth";
import { createAuthInterceptor, defineAccess } from "@fintech/auth";
import { createOutboxRelay, relaySettings } from "@fintech/events";
import type { Clock, ListenOptions, ListenResult } from "@fintech/platform";
import { createReadiness, createServer } from "@fintech/platform";
import { file_fintech_ledger_v1_events } from "@fintech/proto/fintech/ledger/v1/events_pb.js";
import { LedgerService } from "@fintech/proto/fintech/ledger/v1/ledger_pb.js";
import type { NatsConnection } from "@nats-io/transport-node";
import type pg from "pg";
import type { Logger } from "pino";
import type { LedgerConfig } from "./config.js";
import { toConnectError } from "./errors.js";
import { createExpirySweeper } from "./expiry-sweeper.js";
import { createIntegrityChecker } from "./integrity.js";
import { createLedgerService } from "./ledger-service.js";
import { ledgerMetrics } from "./metrics.js";
import { ledgerRoutes } from "./routes.js";
import { ledgerValidation } from "./validation.js";

/** The ledger's SQL migrations. */
export const migrationsDir = join(dirname(fileURLToPath(import.meta.url)), "..", "migrations");

export interface LedgerDeps {
  pool: pg.Pool;
  nc: NatsConnection;
  logger: Logger;
  clock: Clock;
  /**
   * Verifies every caller (connectIdentity in production); routes.ts then lets only services through
   * (those in LEDGER_CALLERS when it is set).
   */
  authenticator: Authenticator;
}

/**
 * Builds the ledger, unstarted: its gRPC server, outbox relay, expiry sweeper and scheduled integrity check.
 * Migrations and the event stream are the caller's (main.ts, or a test's fixtures).
 */
export function build(config: LedgerConfig, deps: LedgerDeps) {
  const { pool, nc, logger, clock, authenticator } = deps;
  const metrics = ledgerMetrics();
  const service = createLedgerService({
    pool,
    clock,
    metrics,
    batchConcurrency: config.LEDGER_BATCH_CONCURRENCY,
  });
  const integrity = createIntegrityChecker({
    pool,
    clock,
    logger,
    metrics,
    intervalSeconds: config.LEDGER_INTEGRITY_INTERVAL_SECONDS,
  });
  const sweeper = createExpirySweeper({
    pool,
    ledger: service,
    clock,
    logger,
    metrics,
    intervalMs: config.LEDGER_EXPIRY_INTERVAL_MS,
  });
  const server = createServer({
    name: "ledger",
    routes: ledgerRoutes({ ledger: service, integrity, callers: config.LEDGER_CALLERS }),
    files: [file_fintech_ledger_v1_events],
    logger,
    mapError: toConnectError,
    interceptors: [
      createAuthInterceptor({ authenticator }),
      ledgerAccess(config.LEDGER_CALLERS),
      ledgerValidation,
    ],
    metricsPort: config.METRICS_PORT,
    reflection: config.GRPC_REFLECTION,
    maxConnectionAgeMs: config.MAX_CONNECTION_AGE_MS,
    readiness: createReadiness({ db: pool, nats: nc }),
  });
  // One event per transfer: larger relay passes than the default keep up with batched writes.
  const relay = createOutboxRelay({
    pool,
    nc,
    source: "ledger",
    logger,
    ...relaySettings(config),
    batchSize: 500,
  });

  return {
    service,
    integrity,
    sweeper,
    server,
    relay,
    async start(listen: ListenOptions = { port: config.PORT, host: config.HOST }): Promise<ListenResult> {
      relay.start();
      sweeper.start();
      integrity.start();
      return server.listen(listen);
    },
    async stop(): Promise<void> {
      await server.close();
      await Promise.all([sweeper.stop(), integrity.stop()]);
      await service.idle();
      await relay.stop();
    },
  };
}

/** Service callers only (LEDGER_CALLERS when set), checked before validation so users learn no request rules. */
function ledgerAccess(callers: readonly string[]) {
  const access = callers.length > 0 ? { services: callers } : "service";
  return defineAccess(LedgerService, {
    createAccount: access,
    getAccount: access,
    closeAccount: access,
    getSystemAccount: access,
    createTransfer: access,
    createTransfers: access,
    getTransfer: access,
    listAccountTransfers: access,
    getBalanceAt: access,
    checkIntegrity: access,
  });
}
