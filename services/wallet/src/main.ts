import { connectIdentity } from "@fintech/auth";
import { createPool, migrate } from "@fintech/db";
import { ensureStream, eventsMigrationsDir } from "@fintech/events";
import { createLogger, propagateTrace, runMain } from "@fintech/platform";
import { connect } from "@nats-io/transport-node";
import { connectBackends } from "./backends.js";
import { parseWalletConfig } from "./config.js";
import { build, migrationsDir } from "./server.js";

const logger = createLogger({ name: "wallet", level: process.env.LOG_LEVEL });

await runMain(async () => {
  const config = parseWalletConfig();
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
    applicationName: "wallet",
    onError: (err) => logger.warn({ err }, "idle database connection failed"),
  });
  // No async stack traces on NATS requests: the outbox relay makes one JetStream request per event.
  const nc = await connect({ servers: config.NATS_URL, name: "wallet", noAsyncTraces: true });
  // Its own stream, and those it consumes, so that the wallet can start before identity and fraud.
  for (const context of ["wallet", "identity", "fraud"]) {
    await ensureStream(nc, {
      context,
      namespace: config.EVENTS_NAMESPACE,
      replicas: config.NATS_STREAM_REPLICAS,
    });
  }

  const { authenticator, credentials } = connectIdentity(config, { logger });
  const backends = connectBackends(
    config,
    credentials === undefined ? [propagateTrace] : [propagateTrace, credentials.interceptor],
  );
  const wallet = build(config, {
    pool,
    nc,
    logger,
    clock: { now: () => new Date() },
    authenticator,
    backends,
  });
  const where = await wallet.start();
  logger.info({ url: where.url, metrics: where.metricsUrl }, "wallet listening");

  return {
    async stop() {
      await wallet.stop();
      await nc.drain();
      await pool.end();
    },
  };
}, logger);
