// Runs one relay pass and hangs at the moment the published rows would be deleted, i.e. after every PubAck. The
// parent test kills this process with SIGKILL there: the state a crash between publish and deletion leaves behind.
import { connect } from "@nats-io/transport-node";
import pg from "pg";
import { pino } from "pino";
import { Registry } from "prom-client";
import { createOutboxRelay } from "../outbox-relay.js";

const { DATABASE_URL, SCHEMA, NATS_URL, NAMESPACE, SOURCE } = process.env;
if (!DATABASE_URL || !SCHEMA || !NATS_URL || NAMESPACE === undefined || !SOURCE) {
  throw new Error("DATABASE_URL, SCHEMA, NATS_URL, NAMESPACE and SOURCE are required");
}

const real = new pg.Pool({ connectionString: DATABASE_URL, options: `-c search_path=${SCHEMA}`, max: 2 });
const pool = Object.create(real) as pg.Pool;
pool.connect = (async () => {
  const client = await real.connect();
  const query = client.query.bind(client);
  client.query = ((text: unknown, ...rest: unknown[]) => {
    if (typeof text === "string" && text.startsWith("DELETE FROM outbox")) {
      process.stdout.write("published\n");
      return new Promise(() => {});
    }
    return (query as (...args: unknown[]) => unknown)(text, ...rest);
  }) as typeof client.query;
  return client;
}) as typeof pool.connect;

const nc = await connect({ servers: NATS_URL });
const relay = createOutboxRelay({
  pool,
  nc,
  source: SOURCE,
  namespace: NAMESPACE,
  logger: pino({ level: "silent" }),
  registry: new Registry(),
});
await relay.runOnce();
