import { connectIdentity } from "@fintech/auth";
import { createPool, migrate } from "@fintech/db";
import { ensureStream, eventsMigrationsDir } from "@fintech/events";
import { createLogger, runMain } from "@fintech/platform";
import { connect } from "@nats-io/transport-node";
import { parseLedgerConfig } from "./config.js";
import { build, migrationsDir } from "./server.js";

const logger = createLogger({ name: "ledger", level: process.env.LOG_LEVEL });

await runMain(async () => {
  const config = parseLedgerConfig();
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
    applicationName: "ledger",
    onError: (err) => logger.warn({ err }, "idle database connection failed"),
  });
  // No async stack traces on NATS requests: the outbox relay makes one JetStream request per transfer, and
  // nats.js would otherwise build two Error objects (stack traces included) for each, up front.
  const nc = await connect({ servers: config.NATS_URL, name: "ledger", noAsyncTraces: true });
  await ensureStream(nc, {
    context: "ledger",
    namespace: config.EVENTS_NAMESPACE,
    replicas: config.NATS_STREAM_REPLICAS,
  });

  const ledger = build(config, {
    pool,
    nc,
    logger,
    clock: { now: () => new Date() },
    authenticator: connectIdentity(config, { logger }).authenticator,
  });
  const where = await ledger.start();
  logger.info({ url: where.url, metrics: where.metricsUrl }, "ledger listening");

  return {
    async stop() {
      await ledger.stop();
      await nc.drain();
      await pool.end();
    },
  };
}, logger);
