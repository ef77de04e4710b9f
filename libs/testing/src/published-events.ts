import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { fromBinary } from "@bufbuild/protobuf";
import { streamName } from "@fintech/events";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type pg from "pg";
import { waitFor } from "./wait-for.js";

/** An event as it is stored in its stream: its CloudEvents type and its payload. */
export interface StreamEvent {
  type: string;
  data: Uint8Array;
}

/**
 * Every event in `context`'s stream of the test's `namespace`, in stream order, once the outbox on `pool` has
 * nothing left to publish: what a service has published so far. (A published row leaves the outbox, so this, not
 * the outbox, is where a test reads the events a service wrote.)
 */
export async function publishedMessages(
  nc: NatsConnection,
  pool: pg.Pool,
  namespace: string,
  context: string,
): Promise<StreamEvent[]> {
  await waitFor(async () => {
    const { rows } = await pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL",
    );
    return rows[0]?.n === 0;
  });
  const stream = streamName(context, namespace);
  const { messages } = (await (await jetstreamManager(nc)).streams.info(stream)).state;
  const consumer = await jetstream(nc).consumers.get(stream);
  const out: StreamEvent[] = [];
  for (let i = 0; i < messages; i++) {
    const m = await consumer.next({ expires: 2_000 });
    if (!m) break;
    out.push({ type: m.headers?.get("ce-type") ?? "", data: m.data });
  }
  return out;
}

/**
 * Every event of `type` (e.g. `"fx.rate.updated"`) that {@link publishedMessages} finds on its context's stream,
 * decoded with `schema`, in stream order: for a test that counts what a service published (exactly once, none).
 */
export async function publishedEvents<D extends DescMessage>(
  nc: NatsConnection,
  pool: pg.Pool,
  namespace: string,
  type: string,
  schema: D,
): Promise<Array<MessageShape<D>>> {
  // A context's events are `<context>.<...>` on the context's stream.
  const all = await publishedMessages(nc, pool, namespace, type.split(".")[0] ?? "");
  return all.filter((m) => m.type === type).map((m) => fromBinary(schema, m.data));
}

/** An outbox row as its relay reads it. */
export interface OutboxRowCopy {
  id: string;
  seq: string;
  subject: string;
  type: string;
  payload: Buffer;
  headers: Record<string, string>;
  created_at: Date;
}

/**
 * The outbox rows on `pool` whose type is `type`, oldest first: to put back with {@link putBackOutboxRows} after
 * a relay published them, as a relay that died after its PubAcks, before their deletion committed, leaves them.
 */
export async function copyOutboxRows(pool: pg.Pool, type: string): Promise<OutboxRowCopy[]> {
  const { rows } = await pool.query<OutboxRowCopy>(
    "SELECT id, seq, subject, type, payload, headers, created_at FROM outbox WHERE type = $1 ORDER BY seq",
    [type],
  );
  return rows;
}

/** Inserts `rows` (from {@link copyOutboxRows}) into the outbox on `pool` again, as they were. */
export async function putBackOutboxRows(pool: pg.Pool, rows: readonly OutboxRowCopy[]): Promise<void> {
  for (const r of rows) {
    await pool.query(
      "INSERT INTO outbox (id, seq, subject, type, payload, headers, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
      [r.id, r.seq, r.subject, r.type, r.payload, r.headers, r.created_at],
    );
  }
}
