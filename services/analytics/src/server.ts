import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Authenticator } from "@fintech/auth";
import { createAuthInterceptor, defineAccess } from "@fintech/auth";
import type { EventConsumer } from "@fintech/events";
import { createConsumer } from "@fintech/events";
import type { Clock, ListenOptions, ListenResult } from "@fintech/platform";
import { createReadiness, createServer } from "@fintech/platform";
import { AnalyticsService } from "@fintech/proto/fintech/analytics/v1/analytics_pb.js";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Redis } from "ioredis";
import type pg from "pg";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { AnalyticsEvent } from "./aggregator.js";
import { createAggregator } from "./aggregator.js";
import { analyticsMetrics } from "./analytics-metrics.js";
import { createAnalyticsService } from "./analytics-service.js";
import type { AnalyticsConfig } from "./config.js";
import { toConnectError } from "./errors.js";
import { CONSUMED, eventDecoder } from "./events.js";
import { createHotGuard } from "./hot-guard.js";
import { createHotStore } from "./hot-store.js";
import { createImportService } from "./import-service.js";
import { createMover } from "./mover.js";
import type { RateSource } from "./rates.js";
import { analyticsRoutes } from "./routes.js";
import type { Timer } from "./timer.js";
import { realTimer } from "./timer.js";
import type { UserDirectory } from "./user-directory.js";
import { analyticsValidation } from "./validation.js";

/** The analytics service's SQL migrations. */
export const migrationsDir = join(dirname(fileURLToPath(import.meta.url)), "..", "migrations");

export interface AnalyticsDeps {
  pool: pg.Pool;
  nc: NatsConnection;
  redis: Redis;
  logger: Logger;
  clock: Clock;
  /** Replay's waits; default real time. */
  timer?: Timer;
  /** Rates for imported rows in other currencies than the base one. */
  rates: RateSource;
  /** Verifies callers (connectIdentity in production, the test kit's createTestTokens in tests). */
  authenticator: Authenticator;
  /** Whether an import's user exists (identityUserDirectory in production). */
  users: UserDirectory;
  /** Registry for the service's own metrics; default prom-client's global one (served on METRICS_PORT). */
  registry?: Registry;
}

/**
 * Builds the analytics service, unstarted: its gRPC server, the event consumers feeding the aggregates, the
 * hot-to-cold mover and the import runner. Migrations and streams are the caller's (main.ts or a test).
 */
export function build(config: AnalyticsConfig, deps: AnalyticsDeps) {
  const { pool, nc, redis, logger, clock, rates } = deps;
  const namespace = config.EVENTS_NAMESPACE;
  const hot = createHotStore({ redis, prefix: config.REDIS_PREFIX });
  const aggregator = createAggregator({ pool, hot, clock, baseCurrency: config.BASE_CURRENCY });
  const mover = createMover({ pool, hot, aggregator, logger, hotDays: config.ANALYTICS_HOT_DAYS });
  const guard = createHotGuard({
    pool,
    hot,
    aggregator,
    redis,
    logger,
    metrics: analyticsMetrics(deps.registry),
    intervalMs: config.ANALYTICS_HOT_CHECK_INTERVAL_MS,
  });
  const analytics = createAnalyticsService({
    pool,
    hot,
    clock,
    rates,
    users: deps.users,
    settings: { baseCurrency: config.BASE_CURRENCY, cacheTtlMs: config.ANALYTICS_CACHE_TTL_SECONDS * 1000 },
  });
  const imports = createImportService({
    pool,
    nc,
    namespace,
    clock,
    timer: deps.timer ?? realTimer,
    rates,
    users: deps.users,
    logger,
    settings: { baseCurrency: config.BASE_CURRENCY, maxErrors: config.ANALYTICS_IMPORT_MAX_ERRORS },
  });
  const decode = eventDecoder(config.BASE_CURRENCY, (eventId, reason) =>
    logger.error({ eventId, reason }, "imported row cannot be counted; skipped"),
  );
  // Batches: one transaction and a few Redis calls count a whole batch. The streams are other services' (wallet,
  // fraud): until one exists its consumer waits for it instead of failing start-up.
  const consumers: EventConsumer[] = CONSUMED.map((c) =>
    createConsumer<AnalyticsEvent>({
      pool,
      nc,
      context: c.context,
      durable: c.durable,
      filterSubject: c.filterSubject,
      namespace,
      logger,
      registry: deps.registry,
      waitForStream: true,
      batch: {
        size: config.ANALYTICS_BATCH_SIZE,
        lingerMs: config.ANALYTICS_BATCH_LINGER_MS,
        concurrency: config.ANALYTICS_CONSUMER_CONCURRENCY,
        decode,
        handle: (events, tx) =>
          aggregator.count(
            tx,
            c.durable,
            events.map((e) => e.message),
          ),
      },
    }),
  );
  const server = createServer({
    name: "analytics",
    routes: analyticsRoutes(analytics, imports),
    logger,
    mapError: toConnectError,
    interceptors: [
      createAuthInterceptor({ authenticator: deps.authenticator }),
      analyticsAccess,
      analyticsValidation,
    ],
    metricsPort: config.METRICS_PORT,
    reflection: config.GRPC_REFLECTION,
    maxConnectionAgeMs: config.MAX_CONNECTION_AGE_MS,
    readiness: createReadiness({ db: pool, nats: nc, redis }),
  });

  let timer: NodeJS.Timeout | undefined;
  let tick: Promise<void> | undefined;
  const maintain = async () => {
    try {
      await mover.runOnce();
      await imports.resume();
    } catch (err) {
      logger.error({ err }, "maintenance pass failed; will retry");
    }
  };

  return {
    analytics,
    imports,
    aggregator,
    mover,
    guard,
    server,
    async start(listen: ListenOptions = { port: config.PORT, host: config.HOST }): Promise<ListenResult> {
      await aggregator.recoverPending(0);
      // Before consuming: the first start builds the hot store (adopting an earlier version's), a later one
      // finds a Redis that lost it while the service was down.
      await guard.check();
      guard.start();
      await Promise.all(consumers.map((c) => c.start()));
      await imports.resume();
      timer = setInterval(() => {
        tick ??= maintain().finally(() => {
          tick = undefined;
        });
      }, config.ANALYTICS_MOVER_INTERVAL_MS);
      return server.listen(listen);
    },
    async stop(): Promise<void> {
      clearInterval(timer);
      await guard.stop();
      await server.close();
      await Promise.all(consumers.map((c) => c.stop()));
      await imports.stop();
      await tick;
    },
  };
}

// Who may call what, checked before validation so a caller without the right learns no request rules. A user
// reads their own analytics (an admin anyone's, routes.ts); platform-wide figures and imports are admins'.
const analyticsAccess = defineAccess(AnalyticsService, {
  getSpending: "user",
  getTimeSeries: "user",
  getSummary: "user",
  getFraudStats: "admin",
  getStats: "admin",
  createImport: "admin",
  listImports: "admin",
  getImport: "admin",
});
