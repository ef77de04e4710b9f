import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Authenticator } from "@fintech/auth";
import { createAuthInterceptor } from "@fintech/auth";
import { createExclusiveJob } from "@fintech/db";
import { createOutboxRelay, relaySettings } from "@fintech/events";
import type { Clock, ListenOptions, ListenResult } from "@fintech/platform";
import { createReadiness, createServer } from "@fintech/platform";
import { file_fintech_fraud_v1_events } from "@fintech/proto/fintech/fraud/v1/events_pb.js";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Redis } from "ioredis";
import type pg from "pg";
import type { Logger } from "pino";
import { fraudAccess } from "./access.js";
import type { FraudConfig } from "./config.js";
import { toConnectError } from "./errors.js";
import { createFeatureConsumer } from "./events.js";
import { createFeatureStore } from "./features.js";
import { createFraudService } from "./fraud-service.js";
import { fraudMetrics } from "./metrics.js";
import { fraudRoutes } from "./routes.js";
import { createRuleBook } from "./rule-book.js";
import { fraudValidation } from "./validation.js";

/** The fraud service's SQL migrations. */
export const migrationsDir = join(dirname(fileURLToPath(import.meta.url)), "..", "migrations");

export interface FraudDeps {
  pool: pg.Pool;
  nc: NatsConnection;
  /**
   * Feature windows. Create it with `enableOfflineQueue: false`, so that while Redis is down scoring's reads fail
   * at once (and scoring falls back to Postgres) instead of queueing; a Redis that hangs is cut off after
   * FRAUD_REDIS_TIMEOUT_MS.
   */
  redis: Redis;
  logger: Logger;
  clock: Clock;
  /** Verifies callers (connectIdentity's in production; the test kit's createTestTokens' in tests). */
  authenticator: Authenticator;
}

/**
 * Builds the fraud service, unstarted: its gRPC server, the consumer of wallet transaction events that feeds
 * the features, its outbox relay and the pruning of old feature rows. Migrations and the event streams
 * (fraud's own and wallet's) are the caller's (main.ts, or a test's fixtures).
 */
export function build(config: FraudConfig, deps: FraudDeps) {
  const { pool, nc, redis, logger, clock } = deps;
  const metrics = fraudMetrics();
  const baseCurrency = config.FRAUD_BASE_CURRENCY;
  const features = createFeatureStore({
    db: pool,
    redis,
    prefix: config.REDIS_PREFIX,
    timeoutMs: config.FRAUD_REDIS_TIMEOUT_MS,
    writeTimeoutMs: config.FRAUD_REDIS_WRITE_TIMEOUT_MS,
    historyCacheTtlMs: config.FRAUD_HISTORY_CACHE_TTL_MS,
    historyCacheSize: config.FRAUD_HISTORY_CACHE_SIZE,
    logger,
    metrics,
    clock,
  });
  const rules = createRuleBook({ pool, clock, baseCurrency, cacheTtlMs: config.FRAUD_RULES_CACHE_TTL_MS });
  const service = createFraudService({
    pool,
    features,
    rules,
    clock,
    metrics,
    logger,
    settings: { baseCurrency, transactionRetentionMs: config.FRAUD_TRANSACTION_RETENTION_HOURS * 3_600_000 },
  });
  const server = createServer({
    name: "fraud",
    routes: fraudRoutes(service, { baseCurrency, clock }),
    files: [file_fintech_fraud_v1_events],
    logger,
    mapError: toConnectError,
    interceptors: [
      createAuthInterceptor({ authenticator: deps.authenticator }),
      fraudAccess(config.FRAUD_SCORE_CALLERS),
      fraudValidation(baseCurrency),
    ],
    metricsPort: config.METRICS_PORT,
    reflection: config.GRPC_REFLECTION,
    maxConnectionAgeMs: config.MAX_CONNECTION_AGE_MS,
    // Redis is not required: scoring answers from Postgres without it.
    readiness: createReadiness({ db: pool, nats: nc }),
  });
  const relay = createOutboxRelay({
    pool,
    nc,
    source: "fraud",
    logger,
    ...relaySettings(config),
  });
  const consumer = createFeatureConsumer({
    pool,
    nc,
    namespace: config.EVENTS_NAMESPACE,
    features,
    rules,
    baseCurrency,
    logger,
  });
  // Every replica schedules the pruning; the one holding its advisory lock prunes, the others skip.
  const pruner = createExclusiveJob({
    pool,
    name: "fraud.prune",
    intervalMs: config.FRAUD_PRUNE_INTERVAL_MS,
    run: async () => {
      await service.prune();
    },
    onError: (err) => logger.warn({ err }, "pruning feature rows failed"),
  });

  return {
    service,
    features,
    server,
    relay,
    consumer,
    async start(listen: ListenOptions = { port: config.PORT, host: config.HOST }): Promise<ListenResult> {
      await rules.current();
      await features.markEpoch();
      await consumer.start();
      relay.start();
      if (config.FRAUD_PRUNE_INTERVAL_MS > 0) pruner.start();
      return server.listen(listen);
    },
    async stop(): Promise<void> {
      await pruner.stop();
      await server.close();
      await service.flushed();
      await consumer.stop();
      await relay.stop();
    },
  };
}
