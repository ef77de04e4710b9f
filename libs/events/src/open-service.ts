import { createPool, migrate } from "@fintech/db";
import type { NatsConnection } from "@nats-io/transport-node";
import type pg from "pg";
import type { Logger } from "pino";
import { ensureStream } from "./ensure-stream.js";
import { eventsMigrationsDir } from "./migrations-dir.js";
import { connectNats } from "./nats-connection.js";

/** The environment every event-publishing service reads for its database and NATS. */
export interface ServiceInfraConfig {
  DATABASE_URL: string;
  DB_SCHEMA: string;
  DB_POOL_MAX: number;
  DB_PREPARED_STATEMENTS?: boolean;
  NATS_URL: string;
  EVENTS_NAMESPACE: string;
  NATS_STREAM_REPLICAS: number;
}

/**
 * What a service's main.ts opens before it builds: its schema migrated (the outbox/inbox tables and the
 * service's own migrations), a pool on that schema, a NATS connection that reconnects without limit (and
 * exits the process, code 1, should it ever close for good; see connectNats), and the JetStream streams it
 * publishes to (its own, `name`) and consumes (`consumes`, created too so that start order never matters).
 * With `--migrate-only` on the command line (the Helm chart's migrations Job) it exits 0 once migrated:
 * call it only from main.ts.
 */
export async function openServiceInfra(opts: {
  name: string;
  config: ServiceInfraConfig;
  migrationsDir: string;
  consumes?: readonly string[];
  logger: Logger;
}): Promise<{ pool: pg.Pool; nc: NatsConnection; close(): Promise<void> }> {
  const { name, config, logger } = opts;
  const applied = await migrate({
    url: config.DATABASE_URL,
    schema: config.DB_SCHEMA,
    dirs: [eventsMigrationsDir, opts.migrationsDir],
    log: (msg) => logger.debug(msg),
  });
  if (applied.length > 0) logger.info({ migrations: applied }, "migrations applied");
  if (process.argv.includes("--migrate-only")) {
    logger.info({ schema: config.DB_SCHEMA }, "schema up to date; exiting (--migrate-only)");
    process.exit(0);
  }
  const pool = createPool({
    url: config.DATABASE_URL,
    schema: config.DB_SCHEMA,
    max: config.DB_POOL_MAX,
    preparedStatements: config.DB_PREPARED_STATEMENTS,
    applicationName: name,
    onError: (err) => logger.warn({ err }, "idle database connection failed"),
  });
  const nc = await connectNats({ servers: config.NATS_URL, name, logger });
  let closing = false;
  // Reconnects never give up, so a connection that closes anyway (the server refused us for good, or the client
  // hit a fatal protocol error) will not come back: exit, and let the orchestrator start a fresh process.
  nc.closed().then(
    (err) => {
      if (closing) return;
      logger.fatal({ err }, "NATS connection closed for good; exiting so that the process is restarted");
      process.exit(1);
    },
    (err: unknown) => logger.error({ err }, "NATS closed() failed"),
  );
  for (const context of [name, ...(opts.consumes ?? [])]) {
    await ensureStream(nc, {
      context,
      namespace: config.EVENTS_NAMESPACE,
      replicas: config.NATS_STREAM_REPLICAS,
    });
  }
  return {
    pool,
    nc,
    async close() {
      closing = true;
      await nc.drain();
      await pool.end();
    },
  };
}
