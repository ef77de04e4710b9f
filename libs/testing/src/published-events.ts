import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { fromBinary } from "@bufbuild/protobuf";
import { streamName } from "@fintech/events";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type pg from "pg";
import { waitFor } from "./wait-for.js";

/**
 * Every event of `type` (e.g. `"fx.rate.updated"`) in its context's stream of the test's `namespace`, decoded
 * with `schema`, in stream order, once the outbox on `pool` has nothing left to publish: what a service has
 * published so far, for a test that counts it (exactly once, none).
 */
export async function publishedEvents<D extends DescMessage>(
  nc: NatsConnection,
  pool: pg.Pool,
  namespace: string,
  type: string,
  schema: D,
): Promise<Array<MessageShape<D>>> {
  await waitFor(async () => {
    const { rows } = await pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL",
    );
    return rows[0]?.n === 0;
  });
  // A context's events are `<context>.<...>` on the context's stream.
  const stream = streamName(type.split(".")[0] ?? "", namespace);
  const { messages } = (await (await jetstreamManager(nc)).streams.info(stream)).state;
  const consumer = await jetstream(nc).consumers.get(stream);
  const out: Array<MessageShape<D>> = [];
  for (let i = 0; i < messages; i++) {
    const m = await consumer.next({ expires: 2_000 });
    if (!m) break;
    if (m.headers?.get("ce-type") === type) out.push(fromBinary(schema, m.data));
  }
  return out;
}
