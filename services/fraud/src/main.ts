import { connectIdentity } from "@fintech/auth";
import { createPool, migrate } from "@fintech/db";
import { ensureStream, eventsMigrationsDir } from "@fintech/events";
import { createLogger, runMain } from "@fintech/platform";
import { connect } from "@nats-io/transport-node";
import { Redis } from "ioredis";
import { parseFraudConfig } from "./config.js";
import { build, migrationsDir } from "./server.js";

const logger = createLogger({ name: "fraud", level: process.env.LOG_LEVEL });

await runMain(async () => {
  const config = parseFraudConfig();
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
    applicationName: "fraud",
    onError: (err) => logger.warn({ err }, "idle database connection failed"),
  });
  const nc = await connect({ servers: config.NATS_URL, name: "fraud" });
  // The wallet's stream too: the feature consumer needs it even when fraud starts first.
  for (const context of ["fraud", "wallet"]) {
    await ensureStream(nc, {
      context,
      namespace: config.EVENTS_NAMESPACE,
      replicas: config.NATS_STREAM_REPLICAS,
    });
  }
  // Fail fast rather than queue: scoring falls back to Postgres when Redis does not answer.
  const redis = new Redis(config.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  // The feature store logs outages once; connection errors are only worth debug lines.
  redis.on("error", (err: unknown) => logger.debug({ err }, "redis connection error"));

  const { authenticator } = connectIdentity(config, { logger });
  const fraud = build(config, {
    pool,
    nc,
    redis,
    logger,
    clock: { now: () => new Date() },
    authenticator,
  });
  const where = await fraud.start();
  logger.info({ url: where.url, metrics: where.metricsUrl }, "fraud listening");

  return {
    async stop() {
      await fraud.stop();
      await nc.drain();
      redis.disconnect();
      await pool.end();
    },
  };
}, logger);
