// How fast the outbox relay drains: a scratch schema with the events tables, BENCH_OUTBOX_ROWS unpublished rows
// (default 50,000, written in one statement), then the real relay against the real JetStream until the backlog is
// zero. Prints rows/s for the relay's default settings; the figure to compare with the fastest writer (the ledger's
// batch benchmark, which writes one event per transfer).
import { randomBytes } from "node:crypto";
import { createPool, migrate } from "@fintech/db";
import { createOutboxRelay, ensureStream, eventsMigrationsDir, streamName } from "@fintech/events";
import { createLogger } from "@fintech/platform";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";

const ROWS = Number(process.env.BENCH_OUTBOX_ROWS ?? 50_000);
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const suffix = randomBytes(4).toString("hex");
const schema = `bench_outbox_${suffix}`;
const namespace = `bench${suffix}`;
const logger = createLogger({ name: "bench", level: "warn" });

await migrate({ url: DATABASE_URL, schema, dirs: [eventsMigrationsDir] });
const pool = createPool({ url: DATABASE_URL, schema, max: 4 });
const nc = await connect({ servers: NATS_URL, noAsyncTraces: true });
await ensureStream(nc, { context: "bench", namespace });
try {
  // A 200-byte payload, about the size of a ledger transfer event.
  await pool.query(
    `INSERT INTO outbox (id, subject, type, payload, headers)
     SELECT gen_random_uuid(), 'bench.transfer.posted', 'bench.transfer.posted', $1,
            jsonb_build_object('traceparent', '00-' || md5(g::text) || '-b7ad6b7169203331-01')
       FROM generate_series(1, $2) AS g`,
    [randomBytes(200), ROWS],
  );
  const batchSize = process.env.BENCH_OUTBOX_BATCH ? Number(process.env.BENCH_OUTBOX_BATCH) : undefined;
  const relay = createOutboxRelay({
    pool,
    nc,
    source: "bench",
    namespace,
    logger,
    ...(batchSize ? { batchSize } : {}),
  });
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  relay.start();
  for (;;) {
    const { rows } = await pool.query<{ n: number }>(
      "SELECT count(*)::int4 AS n FROM outbox WHERE published_at IS NULL",
    );
    if ((rows[0]?.n ?? 0) === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  await relay.stop();
  console.log(
    `outbox relay drained ${ROWS} rows in ${seconds.toFixed(2)} s: ${Math.round(ROWS / seconds)} rows/s, ` +
      `${((cpu.user + cpu.system) / ROWS).toFixed(1)} us relay-process CPU per row`,
  );
} finally {
  await jetstreamManager(nc)
    .then((jsm) => jsm.streams.delete(streamName("bench", namespace)))
    .catch(() => undefined);
  await nc.close();
  await pool.query(`DROP SCHEMA ${schema} CASCADE`);
  await pool.end();
}
