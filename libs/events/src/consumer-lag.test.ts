import { create, toBinary } from "@bufbuild/protobuf";
import { StringValueSchema } from "@bufbuild/protobuf/wkt";
import { waitFor } from "@fintech/testing";
import { jetstream } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import type { Registry } from "prom-client";
import { describe, expect } from "vitest";
import { createConsumer, eventHandler } from "./consumer.js";
import { ensureStream } from "./ensure-stream.js";
import { newEventId } from "./event-id.js";
import { streamName } from "./namespace.js";
import { captureLogs, test } from "./test/harness.js";

/** The consumer's lag series in a scrape of `registry` (what /metrics serves), by metric name. */
async function lag(registry: Registry, stream: string, durable: string): Promise<Record<string, number>> {
  const text = await registry.metrics();
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const m = /^(events_consumer_\w+)\{stream="([^"]*)",consumer="([^"]*)"\} (\S+)$/.exec(line);
    if (m && m[2] === stream && m[3] === durable) out[m[1] as string] = Number(m[4]);
  }
  return out;
}

describe("consumer lag metrics", () => {
  test("a scrape shows the messages waiting for a stuck consumer and the age of the oldest, then none", async ({
    events,
  }) => {
    const { pg, nats } = events;
    const ctx = "lag1";
    await ensureStream(nats.nc, { context: ctx, namespace: nats.namespace });
    const stream = streamName(ctx, nats.namespace);
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { logger, registry } = captureLogs();
    const consumer = createConsumer({
      pool: pg.pool,
      nc: nats.nc,
      context: ctx,
      durable: "lagging",
      filterSubject: `${ctx}.>`,
      namespace: nats.namespace,
      logger,
      registry,
      prefetch: 2,
      handlers: { [`${ctx}.thing.done`]: eventHandler(StringValueSchema, () => gate) },
    });
    await consumer.start();
    try {
      expect(await lag(registry, stream, "lagging")).toEqual({
        events_consumer_pending_messages: 0,
        events_consumer_ack_pending_messages: 0,
        events_consumer_oldest_unprocessed_age_seconds: 0,
      });
      for (let i = 0; i < 5; i++) {
        const h = headers();
        h.set("ce-id", newEventId());
        h.set("ce-type", `${ctx}.thing.done`);
        const data = toBinary(StringValueSchema, create(StringValueSchema, { value: String(i) }));
        await jetstream(nats.nc).publish(`${nats.namespace}.${ctx}.thing.done`, data, { headers: h });
      }
      // The first handler never returns: two messages are pulled (prefetch), three wait in the stream.
      const stuck = await waitFor(
        async () => {
          const l = await lag(registry, stream, "lagging");
          return l.events_consumer_ack_pending_messages === 2 && l.events_consumer_pending_messages === 3
            ? l
            : undefined;
        },
        { timeoutMs: 10_000 },
      );
      expect(stuck.events_consumer_oldest_unprocessed_age_seconds).toBeGreaterThan(0);
      // The oldest keeps ageing while it waits.
      await waitFor(
        async () =>
          ((await lag(registry, stream, "lagging")).events_consumer_oldest_unprocessed_age_seconds ?? 0) >
          (stuck.events_consumer_oldest_unprocessed_age_seconds ?? 0) + 1,
        { timeoutMs: 10_000 },
      );

      release();
      await waitFor(
        async () => {
          const l = await lag(registry, stream, "lagging");
          return (
            l.events_consumer_pending_messages === 0 &&
            l.events_consumer_ack_pending_messages === 0 &&
            l.events_consumer_oldest_unprocessed_age_seconds === 0
          );
        },
        { timeoutMs: 10_000 },
      );
    } finally {
      release();
      await consumer.stop();
    }
    // A stopped consumer is no longer reported.
    expect(await lag(registry, stream, "lagging")).toEqual({});
  });
});
