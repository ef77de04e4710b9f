import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { connectIdentity } from "@fintech/auth";
import { createPool, migrate } from "@fintech/db";
import { ensureStream, eventsMigrationsDir } from "@fintech/events";
import { createLogger, runMain } from "@fintech/platform";
import { FxService } from "@fintech/proto/fintech/fx/v1/fx_pb.js";
import { connect } from "@nats-io/transport-node";
import { Redis } from "ioredis";
import { systemClock } from "./clock.js";
import { parseAnalyticsConfig } from "./config.js";
import { fxRates, staticRates } from "./rates.js";
import { build, migrationsDir } from "./server.js";

const logger = createLogger({ name: "analytics", level: process.env.LOG_LEVEL });

await runMain(async () => {
  const config = parseAnalyticsConfig();
  const applied = await migrate({
    url: config.DATABASE_URL,
    schema: config.DB_SCHEMA,
    dirs: [eventsMigrationsDir, migrationsDir],
    log: (msg) => logger.debug(msg),
  });
  if (applied.length > 0) logger.info({ migrations: applied }, "migrations applied");
  // The Helm chart's migrations Job (a pre-install/pre-upgrade hook) runs the image with --migrate-only.
  if (process.argv.includes("--migrate-only")) {
    logger.info({ schema: config.DB_SCHEMA }, "schema up to date; exiting (--migrate-only)");
    process.exit(0);
  }

  const pool = createPool({
    url: config.DATABASE_URL,
    schema: config.DB_SCHEMA,
    max: config.DB_POOL_MAX,
    applicationName: "analytics",
    onError: (err) => logger.warn({ err }, "idle database connection failed"),
  });
  const nc = await connect({ servers: config.NATS_URL, name: "analytics" });
  // Imported rows are published on the analytics stream; the wallet and fraud streams are their owners' to
  // create (the consumers wait for them).
  await ensureStream(nc, {
    context: "analytics",
    namespace: config.EVENTS_NAMESPACE,
    replicas: config.NATS_STREAM_REPLICAS,
  });
  const redis = new Redis(config.REDIS_URL, { lazyConnect: true });
  await redis.connect();

  const { authenticator, credentials } = connectIdentity(config, { logger });
  const rates =
    config.ANALYTICS_IMPORT_RATES === undefined
      ? fxRates(
          // As this service, once it has credentials (fx may require callers to be known).
          createClient(
            FxService,
            createGrpcTransport({
              baseUrl: config.FX_URL,
              interceptors: credentials === undefined ? [] : [credentials.interceptor],
            }),
          ),
          config.BASE_CURRENCY,
        )
      : staticRates(config.ANALYTICS_IMPORT_RATES, config.BASE_CURRENCY);

  const analytics = build(config, { pool, nc, redis, logger, clock: systemClock, rates, authenticator });
  const where = await analytics.start();
  logger.info({ url: where.url, metrics: where.metricsUrl }, "analytics listening");

  return {
    async stop() {
      await analytics.stop();
      await nc.drain();
      await redis.quit();
      await pool.end();
    },
  };
}, logger);
