import { connectIdentity } from "@fintech/auth";
import { createPool, migrate } from "@fintech/db";
import { ensureStream, eventsMigrationsDir } from "@fintech/events";
import { createLogger, runMain } from "@fintech/platform";
import { connect } from "@nats-io/transport-node";
import { parseFxConfig } from "./config.js";
import { build, migrationsDir } from "./server.js";

const logger = createLogger({ name: "fx", level: process.env.LOG_LEVEL });

await runMain(async () => {
  const config = parseFxConfig();
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
    applicationName: "fx",
    onError: (err) => logger.warn({ err }, "idle database connection failed"),
  });
  const nc = await connect({ servers: config.NATS_URL, name: "fx" });
  await ensureStream(nc, {
    context: "fx",
    namespace: config.EVENTS_NAMESPACE,
    replicas: config.NATS_STREAM_REPLICAS,
  });

  const { authenticator } = connectIdentity(config, { logger });
  const fx = build(config, { pool, nc, logger, authenticator, clock: { now: () => new Date() } });
  const seeded = await fx.service.seed(config.FX_SEED_RATES);
  if (seeded > 0) logger.info({ seeded }, "seed rates set");
  const where = await fx.start();
  logger.info({ url: where.url, metrics: where.metricsUrl }, "fx listening");

  return {
    async stop() {
      await fx.stop();
      await nc.drain();
      await pool.end();
    },
  };
}, logger);
