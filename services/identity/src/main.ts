import { createPool, migrate } from "@fintech/db";
import { ensureStream, eventsMigrationsDir } from "@fintech/events";
import { createLogger, runMain } from "@fintech/platform";
import { connect } from "@nats-io/transport-node";
import { systemClock } from "./clock.js";
import { parseIdentityConfig } from "./config.js";
import { build, migrationsDir } from "./server.js";

const logger = createLogger({ name: "identity", level: process.env.LOG_LEVEL });

await runMain(async () => {
  const config = parseIdentityConfig();
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
    applicationName: "identity",
    onError: (err) => logger.warn({ err }, "idle database connection failed"),
  });
  const nc = await connect({ servers: config.NATS_URL, name: "identity" });
  await ensureStream(nc, {
    context: "identity",
    namespace: config.EVENTS_NAMESPACE,
    replicas: config.NATS_STREAM_REPLICAS,
  });

  const identity = build(config, { pool, nc, logger, clock: systemClock });
  const where = await identity.start();
  logger.info({ url: where.url, metrics: where.metricsUrl }, "identity listening");

  return {
    async stop() {
      await identity.stop();
      await nc.drain();
      await pool.end();
    },
  };
}, logger);
