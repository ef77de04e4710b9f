import { setTimeout as sleep } from "node:timers/promises";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { StringValueSchema } from "@bufbuild/protobuf/wkt";
import { currentSpan, formatTraceparent, runInSpan } from "@fintech/platform";
import { waitFor } from "@fintech/testing";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import { describe, expect } from "vitest";
import { batchSpan } from "./batch-processor.js";
import { combinedBatches, subjectMatches } from "./combined-batches.js";
import type { CommonConsumerOptions, ConsumerOptions } from "./consumer.js";
import { createConsumer, eventHandler } from "./consumer.js";
import type { BatchHandler, ConsumedEvent, TraceContext } from "./consumer-model.js";
import { enqueue } from "./enqueue.js";
import { ensureStream } from "./ensure-stream.js";
import { newEventId } from "./event-id.js";
import { streamName } from "./namespace.js";
import { createOutboxRelay } from "./outbox-relay.js";
import type { EventsFixture } from "./test/harness.js";
import { captureLogs, test } from "./test/harness.js";

let contexts = 0;

/** Helpers bound to the file's schema and namespace. */
function kit({ pg, nats }: EventsFixture) {
  const h = { pool: pg.pool, nc: nats.nc, namespace: nats.namespace };

  async function freshContext(): Promise<string> {
    const ctx = `cons${++contexts}`;
    await h.pool.query("CREATE TABLE IF NOT EXISTS effects (event_id text NOT NULL, value text NOT NULL)");
    await ensureStream(h.nc, { context: ctx, namespace: h.namespace });
    return ctx;
  }

  /**
   * Publishes as the relay would, but lets the test choose the Nats-Msg-Id independently of ce-id, and the
   * traceparent.
   */
  async function publishRaw(
    ctx: string,
    type: string,
    ceId: string,
    value: string,
    msgID = newEventId(),
    traceparent?: string,
  ) {
    const hdr = headers();
    if (traceparent !== undefined) hdr.set("traceparent", traceparent);
    hdr.set("ce-specversion", "1.0");
    hdr.set("ce-id", ceId);
    hdr.set("ce-type", type);
    hdr.set("ce-source", ctx);
    hdr.set("ce-time", "2025-01-02T03:04:05.000Z");
    hdr.set("content-type", "application/protobuf");
    const data = toBinary(StringValueSchema, create(StringValueSchema, { value }));
    await jetstream(h.nc).publish(`${h.namespace}.${type}`, data, { msgID, headers: hdr });
  }

  async function effectsOf(eventId: string): Promise<string[]> {
    const { rows } = await h.pool.query<{ value: string }>("SELECT value FROM effects WHERE event_id = $1", [
      eventId,
    ]);
    return rows.map((r) => r.value);
  }

  /** The consumer has settled everything it was given: nothing pending and nothing awaiting an ack. */
  async function settled(ctx: string, durable: string): Promise<boolean> {
    const jsm = await jetstreamManager(h.nc);
    const info = await jsm.consumers.info(streamName(ctx, h.namespace), durable);
    return info.num_pending === 0 && info.num_ack_pending === 0;
  }

  function consumer(ctx: string, durable: string, extra: Partial<ConsumerOptions> = {}) {
    const { logger, lines, registry } = captureLogs();
    const c = createConsumer({
      pool: h.pool,
      nc: h.nc,
      context: ctx,
      durable,
      filterSubject: `${ctx}.>`,
      namespace: h.namespace,
      handlers: {},
      logger,
      registry,
      ackWaitMs: 2000,
      backoffMs: [20, 40],
      ...extra,
    });
    const outcomes = async (): Promise<Record<string, number>> => {
      const metric = await registry.getSingleMetric("events_consumed_total")?.get();
      const out: Record<string, number> = {};
      for (const v of metric?.values ?? []) out[String(v.labels.outcome)] = v.value;
      return out;
    };
    return { consumer: c, lines, outcomes };
  }

  /** A consumer in batch mode over StringValue events whose handler records each event's effect. */
  function batchConsumer(
    ctx: string,
    durable: string,
    batch: Partial<BatchHandler<string>> = {},
    extra: Partial<CommonConsumerOptions> = {},
  ) {
    const { logger, lines, registry } = captureLogs();
    const c = createConsumer<string>({
      pool: h.pool,
      nc: h.nc,
      context: ctx,
      durable,
      filterSubject: `${ctx}.>`,
      namespace: h.namespace,
      logger,
      registry,
      ackWaitMs: 2000,
      backoffMs: [20, 40],
      ...extra,
      batch: {
        decode: (event) => ({
          events: [{ id: event.id, message: fromBinary(StringValueSchema, event.message).value }],
        }),
        handle: async (events, tx) => {
          for (const e of events) {
            await tx.query("INSERT INTO effects (event_id, value) VALUES ($1, $2)", [e.id, e.message]);
          }
          return undefined;
        },
        ...batch,
      },
    });
    const outcomes = async (): Promise<Record<string, number>> => {
      const metric = await registry.getSingleMetric("events_consumed_total")?.get();
      const out: Record<string, number> = {};
      for (const v of metric?.values ?? []) out[String(v.labels.outcome)] = v.value;
      return out;
    };
    return { consumer: c, lines, outcomes };
  }

  return { h, freshContext, publishRaw, effectsOf, settled, consumer, batchConsumer };
}

const recordEffect = eventHandler(StringValueSchema, async (event, tx) => {
  await tx.query("INSERT INTO effects (event_id, value) VALUES ($1, $2)", [event.id, event.message.value]);
});

describe("consumer", () => {
  test("an event carries the trace of the work that enqueued it into its handler", async ({ events }) => {
    const { h, freshContext, consumer, settled } = kit(events);
    const ctx = await freshContext();
    const type = `${ctx}.traced.thing`;
    const handledIn: string[] = [];
    const { consumer: c } = consumer(ctx, "traced", {
      handlers: {
        [type]: eventHandler(StringValueSchema, async () => {
          handledIn.push(currentSpan()?.traceId ?? "none");
        }),
      },
    });
    const { logger, registry } = captureLogs();
    const relay = createOutboxRelay({
      pool: h.pool,
      nc: h.nc,
      source: ctx,
      namespace: h.namespace,
      logger,
      registry,
    });
    const rpc = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", traceFlags: 1 };
    await runInSpan(rpc, () =>
      enqueue(h.pool, {
        type,
        schema: StringValueSchema,
        message: create(StringValueSchema, { value: "t" }),
      }),
    );
    await relay.runOnce();
    await c.start();
    try {
      await waitFor(() => handledIn.length === 1 && settled(ctx, "traced"));
      expect(handledIn).toEqual([rpc.traceId]);
    } finally {
      await c.stop();
    }
  });

  test("delivers an enqueued event end to end, decoded, with its CloudEvents attributes", async ({
    events,
  }) => {
    const { h, freshContext, effectsOf, consumer } = kit(events);
    const ctx = await freshContext();
    const type = `${ctx}.thing.happened`;
    const seen: ConsumedEvent[] = [];
    const { consumer: c } = consumer(ctx, "e2e", {
      handlers: {
        [type]: eventHandler(StringValueSchema, async (event, tx) => {
          seen.push(event);
          await recordEffect.handle(event, tx);
        }),
      },
    });
    const { logger, registry } = captureLogs();
    const relay = createOutboxRelay({
      pool: h.pool,
      nc: h.nc,
      source: ctx,
      namespace: h.namespace,
      logger,
      registry,
    });
    const id = await enqueue(h.pool, {
      type,
      schema: StringValueSchema,
      message: create(StringValueSchema, { value: "hi" }),
    });
    expect(await relay.runOnce()).toBe(1);
    await c.start();
    try {
      await waitFor(async () => (await effectsOf(id)).length > 0);
      expect(await effectsOf(id)).toEqual(["hi"]);
      expect(seen).toHaveLength(1);
      expect(seen[0]?.id).toBe(id);
      expect(seen[0]?.type).toBe(type);
      expect(seen[0]?.source).toBe(ctx);
      expect(Math.abs((seen[0]?.time.getTime() ?? 0) - Date.now())).toBeLessThan(60_000);
    } finally {
      await c.stop();
    }
  });

  test("applies an event delivered twice (same ce-id) only once", async ({ events }) => {
    const { h, freshContext, publishRaw, effectsOf, settled, consumer } = kit(events);
    const ctx = await freshContext();
    const type = `${ctx}.thing.happened`;
    const { consumer: c, outcomes } = consumer(ctx, "twice", { handlers: { [type]: recordEffect } });
    const id = newEventId();
    await publishRaw(ctx, type, id, "first");
    await publishRaw(ctx, type, id, "second");
    await c.start();
    try {
      await waitFor(() => settled(ctx, "twice"));
      expect(await effectsOf(id)).toEqual(["first"]);
      expect(await outcomes()).toEqual({ handled: 1, duplicate: 1 });
      const inbox = await h.pool.query("SELECT 1 FROM inbox WHERE consumer = 'twice' AND event_id = $1", [
        id,
      ]);
      expect(inbox.rowCount).toBe(1);
    } finally {
      await c.stop();
    }
  });

  test("retries a failing handler with its rollback, then succeeds once", async ({ events }) => {
    const { freshContext, publishRaw, effectsOf, settled, consumer } = kit(events);
    const ctx = await freshContext();
    const type = `${ctx}.thing.happened`;
    let calls = 0;
    const { consumer: c, outcomes } = consumer(ctx, "flaky", {
      handlers: {
        [type]: eventHandler(StringValueSchema, async (event, tx) => {
          calls++;
          await recordEffect.handle(event, tx);
          if (calls < 3) throw new Error(`transient failure ${calls}`);
        }),
      },
    });
    const id = newEventId();
    await publishRaw(ctx, type, id, "v");
    await c.start();
    try {
      await waitFor(async () => (await effectsOf(id)).length > 0);
      await waitFor(() => settled(ctx, "flaky"));
      expect(calls).toBe(3);
      expect(await effectsOf(id)).toEqual(["v"]);
      expect(await outcomes()).toEqual({ retried: 2, handled: 1 });
    } finally {
      await c.stop();
    }
  });

  test("terminates an event whose handler keeps failing after maxDeliver deliveries, logging it", async ({
    events,
  }) => {
    const { h, freshContext, publishRaw, effectsOf, settled, consumer } = kit(events);
    const ctx = await freshContext();
    const type = `${ctx}.thing.happened`;
    let calls = 0;
    const {
      consumer: c,
      lines,
      outcomes,
    } = consumer(ctx, "doomed", {
      maxDeliver: 3,
      handlers: {
        [type]: eventHandler(StringValueSchema, async (event, tx) => {
          calls++;
          await recordEffect.handle(event, tx);
          throw new Error("permanent failure");
        }),
      },
    });
    const id = newEventId();
    await publishRaw(ctx, type, id, "v");
    await c.start();
    try {
      await waitFor(async () => (await outcomes()).terminated === 1);
      // Well within ackWaitMs (2 s): the term itself settles the message, not its ack timeout.
      await waitFor(() => settled(ctx, "doomed"), { timeoutMs: 1000 });
      expect(calls).toBe(3);
      expect(await outcomes()).toEqual({ retried: 2, terminated: 1 });
      expect(await effectsOf(id)).toEqual([]);
      const inbox = await h.pool.query("SELECT 1 FROM inbox WHERE consumer = 'doomed'");
      expect(inbox.rowCount).toBe(0);
      const errors = lines.filter((l) => l.level === 50);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ eventId: id, type, deliveries: 3 });
    } finally {
      await c.stop();
    }
  });

  test("terminates at once a message that cannot be processed: no ce-id, or an undecodable payload", async ({
    events,
  }) => {
    const { h, freshContext, publishRaw, effectsOf, settled, consumer } = kit(events);
    const ctx = await freshContext();
    const type = `${ctx}.thing.happened`;
    let calls = 0;
    const {
      consumer: c,
      lines,
      outcomes,
    } = consumer(ctx, "strict", {
      handlers: {
        [type]: eventHandler(StringValueSchema, async (event, tx) => {
          calls++;
          await recordEffect.handle(event, tx);
        }),
      },
    });
    const noId = headers();
    noId.set("ce-type", type);
    await jetstream(h.nc).publish(`${h.namespace}.${type}`, new Uint8Array(), { headers: noId });
    const garbled = headers();
    garbled.set("ce-id", newEventId());
    garbled.set("ce-type", type);
    // Field 1 (value, a string) claiming 100 bytes that are not there.
    await jetstream(h.nc).publish(`${h.namespace}.${type}`, new Uint8Array([0x0a, 0x64, 0x61]), {
      headers: garbled,
    });
    const good = newEventId();
    await publishRaw(ctx, type, good, "ok");
    await c.start();
    try {
      await waitFor(() => settled(ctx, "strict"));
      expect(await outcomes()).toEqual({ terminated: 2, handled: 1 });
      expect(calls).toBe(1);
      expect(await effectsOf(good)).toEqual(["ok"]);
      expect(lines.filter((l) => l.level === 50)).toHaveLength(2);
    } finally {
      await c.stop();
    }
  });

  test("acknowledges and ignores an event type without a handler", async ({ events }) => {
    const { freshContext, publishRaw, effectsOf, settled, consumer } = kit(events);
    const ctx = await freshContext();
    const known = `${ctx}.thing.happened`;
    const { consumer: c, outcomes } = consumer(ctx, "picky", { handlers: { [known]: recordEffect } });
    const ignored = newEventId();
    const handled = newEventId();
    await publishRaw(ctx, `${ctx}.other.happened`, ignored, "x");
    await publishRaw(ctx, known, handled, "y");
    await c.start();
    try {
      await waitFor(() => settled(ctx, "picky"));
      expect(await effectsOf(ignored)).toEqual([]);
      expect(await effectsOf(handled)).toEqual(["y"]);
      expect(await outcomes()).toEqual({ ignored: 1, handled: 1 });
    } finally {
      await c.stop();
    }
  });

  test("only receives subjects matching its filter, and resumes a durable after a restart", async ({
    events,
  }) => {
    const { h, freshContext, publishRaw, effectsOf, settled, consumer } = kit(events);
    const ctx = await freshContext();
    const wanted = `${ctx}.wanted.happened`;
    const handlers = { [wanted]: recordEffect, [`${ctx}.unwanted.happened`]: recordEffect };
    const first = consumer(ctx, "filtered", { filterSubject: wanted, handlers });
    await first.consumer.start();
    const a = newEventId();
    const unwanted = newEventId();
    await publishRaw(ctx, `${ctx}.unwanted.happened`, unwanted, "no");
    await publishRaw(ctx, wanted, a, "a");
    await waitFor(async () => (await effectsOf(a)).length > 0);
    await first.consumer.stop();

    const b = newEventId();
    await publishRaw(ctx, wanted, b, "b");
    const second = consumer(ctx, "filtered", { filterSubject: wanted, handlers, ackWaitMs: 3000 });
    await second.consumer.start();
    try {
      await waitFor(async () => (await effectsOf(b)).length > 0);
      await waitFor(() => settled(ctx, "filtered"));
      expect(await second.outcomes()).toEqual({ handled: 1 });
      const { rows } = await h.pool.query<{ value: string }>(
        "SELECT value FROM effects WHERE event_id = ANY($1) ORDER BY value",
        [[a, b]],
      );
      expect(rows.map((r) => r.value)).toEqual(["a", "b"]);
      expect(await effectsOf(unwanted)).toEqual([]);
      const jsm = await jetstreamManager(h.nc);
      const info = await jsm.consumers.info(streamName(ctx, h.namespace), "filtered");
      expect(info.config.ack_wait).toBe(3_000_000_000);
    } finally {
      await second.consumer.stop();
    }
  });

  test("a consumer whose durable is deleted under it opens it again and goes on, each event once", async ({
    events,
  }) => {
    const { h, freshContext, publishRaw, effectsOf, consumer } = kit(events);
    const ctx = await freshContext();
    const type = `${ctx}.thing.happened`;
    const { consumer: c, lines } = consumer(ctx, "lost", { handlers: { [type]: recordEffect } });
    await c.start();
    try {
      const first = newEventId();
      await publishRaw(ctx, type, first, "before");
      await waitFor(async () => (await effectsOf(first)).length === 1);
      await (await jetstreamManager(h.nc)).consumers.delete(streamName(ctx, h.namespace), "lost");
      const second = newEventId();
      await publishRaw(ctx, type, second, "after");
      await waitFor(async () => (await effectsOf(second)).length === 1, { timeoutMs: 20_000 });
      // The re-created durable starts from the beginning again; the inbox keeps the first event at one effect.
      expect(await effectsOf(first)).toEqual(["before"]);
      expect(lines.some((l) => l.msg === "consumer restarted")).toBe(true);
    } finally {
      await c.stop();
    }
  });
});

describe("consumer in batch mode", () => {
  const spanA = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", traceFlags: 1 };
  const spanB = { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", traceFlags: 1 };

  test("a batch handler sees each event's trace; a batch continues a trace only when it is its events' one", async ({
    events,
  }) => {
    const { freshContext, publishRaw, settled, batchConsumer } = kit(events);
    const ctx = await freshContext();
    const type = `${ctx}.traced.thing`;
    const seen: Array<{ value: string; trace: string | undefined }> = [];
    const batches: Array<{ traces: Set<string>; ran: string }> = [];
    const { consumer: c, lines } = batchConsumer(ctx, "traced-batch", {
      handle: async (batch) => {
        for (const e of batch) seen.push({ value: e.message, trace: e.trace?.traceId });
        batches.push({
          traces: new Set(batch.map((e) => e.trace?.traceId ?? "none")),
          ran: currentSpan()?.traceId ?? "",
        });
        return undefined;
      },
    });
    // Two requests' events, interleaved, and one event published outside any trace.
    await publishRaw(ctx, type, newEventId(), "a1", undefined, formatTraceparent(spanA));
    await publishRaw(ctx, type, newEventId(), "b1", undefined, formatTraceparent(spanB));
    await publishRaw(ctx, type, newEventId(), "a2", undefined, formatTraceparent(spanA));
    await publishRaw(ctx, type, newEventId(), "none");
    await c.start();
    try {
      await waitFor(async () => seen.length === 4 && (await settled(ctx, "traced-batch")));
      expect(seen).toEqual([
        { value: "a1", trace: spanA.traceId },
        { value: "b1", trace: spanB.traceId },
        { value: "a2", trace: spanA.traceId },
        { value: "none", trace: undefined },
      ]);
      for (const { traces, ran } of batches) {
        const [only] = [...traces];
        if (traces.size === 1 && only !== "none") expect(ran).toBe(only);
        else expect([spanA.traceId, spanB.traceId, ""]).not.toContain(ran);
      }
      // Every batch's span names the spans of the events it handled for another trace than its own.
      const linked = lines.filter((l) => l.msg === "batch handled").flatMap((l) => l.links as string[]);
      for (const { traces, ran } of batches) {
        if (traces.size > 1 || traces.has("none")) {
          for (const t of traces) if (t !== "none" && t !== ran) expect(linked.join(" ")).toContain(t);
        }
      }
    } finally {
      await c.stop();
    }
  });

  test("a batch's span continues one trace, or starts its own linking to every event's span", () => {
    const a2 = { ...spanA, spanId: "1111111111111111" };
    const one = batchSpan([spanA, a2, spanA]);
    expect(one.span.traceId).toBe(spanA.traceId);
    expect(one.span.spanId).not.toBe(spanA.spanId);
    expect(one.links).toEqual([a2]);

    const mixed = batchSpan([spanA, spanB, spanA]);
    expect([spanA.traceId, spanB.traceId]).not.toContain(mixed.span.traceId);
    expect(mixed.links).toEqual([spanA, spanB]);

    const partly = batchSpan([spanA, undefined]);
    expect(partly.span.traceId).not.toBe(spanA.traceId);
    expect(partly.links).toEqual([spanA]);

    const none: TraceContext[] = batchSpan([undefined, undefined]).links;
    expect(none).toEqual([]);
  });

  test("hands every event of a message to the handler once, skipping what the inbox holds", async ({
    events,
  }) => {
    const { h, freshContext, publishRaw, settled, batchConsumer } = kit(events);
    const ctx = await freshContext();
    const rows = `${ctx}.rows.imported`;
    const handled: string[] = [];
    const afterCommit: string[] = [];
    const { consumer: c, outcomes } = batchConsumer(ctx, "rows-batch", {
      // One message carries several events, each with its own inbox id.
      decode: (event) => {
        const values = fromBinary(StringValueSchema, event.message).value.split(",");
        if (event.type !== rows) return { ignore: true };
        if (values.includes("poison")) return { poison: "cannot be handled" };
        return { events: values.map((value) => ({ id: `row-${value}`, message: value })) };
      },
      handle: async (batch, tx) => {
        for (const e of batch) {
          handled.push(e.message);
          await tx.query("INSERT INTO effects (event_id, value) VALUES ($1, $2)", [e.id, e.message]);
        }
        const committed = batch.map((e) => e.message);
        return async () => {
          const { rows: found } = await h.pool.query("SELECT 1 FROM effects WHERE value = ANY($1)", [
            committed,
          ]);
          if (found.length === committed.length) afterCommit.push(...committed);
        };
      },
    });
    await publishRaw(ctx, rows, newEventId(), "1,2,3");
    // The same rows grouped otherwise, under another message id: only the new one counts.
    await publishRaw(ctx, rows, newEventId(), "3,4");
    await publishRaw(ctx, rows, newEventId(), "2,3");
    await publishRaw(ctx, rows, newEventId(), "5,poison");
    await publishRaw(ctx, `${ctx}.other.thing`, newEventId(), "6");
    await c.start();
    try {
      await waitFor(() => settled(ctx, "rows-batch"));
      expect(handled).toEqual(["1", "2", "3", "4"]);
      expect(afterCommit.sort()).toEqual(["1", "2", "3", "4"]);
      expect(await outcomes()).toEqual({ handled: 2, duplicate: 1, terminated: 1, ignored: 1 });
      const inbox = await h.pool.query<{ event_id: string }>(
        "SELECT event_id FROM inbox WHERE consumer = 'rows-batch' ORDER BY event_id",
      );
      expect(inbox.rows.map((r) => r.event_id)).toEqual(["row-1", "row-2", "row-3", "row-4"]);
    } finally {
      await c.stop();
    }
  });

  test("one failing event holds back no other: its batch is handled again message by message", async ({
    events,
  }) => {
    const { freshContext, publishRaw, effectsOf, settled, batchConsumer } = kit(events);
    const ctx = await freshContext();
    const type = `${ctx}.thing.happened`;
    let calls = 0;
    const { consumer: c, outcomes } = batchConsumer(
      ctx,
      "isolating",
      {
        handle: async (batch, tx) => {
          calls++;
          for (const e of batch) {
            await tx.query("INSERT INTO effects (event_id, value) VALUES ($1, $2)", [e.id, e.message]);
          }
          if (batch.some((e) => e.message === "bad")) throw new Error("cannot handle bad");
          return undefined;
        },
      },
      { maxDeliver: 2 },
    );
    const ids = [newEventId(), newEventId(), newEventId()];
    await publishRaw(ctx, type, ids[0] ?? "", "good1");
    await publishRaw(ctx, type, ids[1] ?? "", "bad");
    await publishRaw(ctx, type, ids[2] ?? "", "good2");
    await c.start();
    try {
      await waitFor(async () => (await outcomes()).terminated === 1 && (await settled(ctx, "isolating")));
      expect(await effectsOf(ids[0] ?? "")).toEqual(["good1"]);
      expect(await effectsOf(ids[1] ?? "")).toEqual([]);
      expect(await effectsOf(ids[2] ?? "")).toEqual(["good2"]);
      expect(await outcomes()).toMatchObject({ handled: 2, retried: 1, terminated: 1 });
      expect(calls).toBeGreaterThanOrEqual(4);
    } finally {
      await c.stop();
    }
  });

  test("with lingerMs, a trickle of events shares batches; without, each is its own; a full batch does not wait", async ({
    events,
  }) => {
    const { freshContext, publishRaw, settled, batchConsumer } = kit(events);
    const trickle = async (ctx: string, count: number) => {
      for (let i = 0; i < count; i++) {
        await publishRaw(ctx, `${ctx}.thing.happened`, newEventId(), `v${i}`);
        await sleep(15);
      }
    };
    const run = async (
      durable: string,
      batch: Partial<BatchHandler<string>>,
      publish: (ctx: string) => Promise<void>,
    ) => {
      const ctx = await freshContext();
      const sizes: number[] = [];
      const { consumer: c } = batchConsumer(ctx, durable, {
        ...batch,
        handle: async (events) => {
          sizes.push(events.length);
          return undefined;
        },
      });
      await c.start();
      try {
        await publish(ctx);
        await waitFor(async () => sizes.reduce((a, b) => a + b, 0) === 8 && (await settled(ctx, durable)));
      } finally {
        await c.stop();
      }
      return sizes;
    };
    // 8 events 15 ms apart: about 120 ms in all.
    expect(await run("lingering", { lingerMs: 1000 }, (ctx) => trickle(ctx, 8))).toEqual([8]);
    expect((await run("eager", {}, (ctx) => trickle(ctx, 8))).length).toBeGreaterThanOrEqual(4);
    // A batch that is full (size 4) goes at once, however long the linger.
    const started = Date.now();
    const full = await run("full", { lingerMs: 60_000, size: 4 }, async (ctx) => {
      for (let i = 0; i < 8; i++) await publishRaw(ctx, `${ctx}.thing.happened`, newEventId(), `v${i}`);
    });
    expect(full).toEqual([4, 4]);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  test("with lingerMs, messages with nothing to handle are acknowledged with the next batch or after lingerMs", async ({
    events,
  }) => {
    const { freshContext, publishRaw, settled, batchConsumer } = kit(events);
    const ctx = await freshContext();
    const type = `${ctx}.thing.happened`;
    const handled: string[] = [];
    const { consumer: c, outcomes } = batchConsumer(ctx, "skipping", {
      lingerMs: 150,
      decode: (event) => {
        const value = fromBinary(StringValueSchema, event.message).value;
        return value.startsWith("skip") ? { ignore: true } : { events: [{ id: event.id, message: value }] };
      },
      handle: async (batch) => {
        for (const e of batch) handled.push(e.message);
        return undefined;
      },
    });
    await c.start();
    try {
      for (const value of ["skip1", "keep1", "skip2"]) await publishRaw(ctx, type, newEventId(), value);
      await waitFor(async () => (await settled(ctx, "skipping")) && handled.length === 1);
      expect(await outcomes()).toMatchObject({ handled: 1, ignored: 2 });
      // Nothing else to handle: the lone ignored message is acknowledged once its linger is over.
      const started = Date.now();
      await publishRaw(ctx, type, newEventId(), "skip3");
      await waitFor(async () => (await outcomes()).ignored === 3);
      expect(Date.now() - started).toBeGreaterThanOrEqual(100);
      await waitFor(() => settled(ctx, "skipping"));
      expect(handled).toEqual(["keep1"]);
    } finally {
      await c.stop();
    }
  });

  test("waits for a stream that does not exist yet, and opens a durable deleted under it again", async ({
    events,
  }) => {
    const { h, publishRaw, effectsOf, batchConsumer } = kit(events);
    const ctx = `cons${++contexts}`;
    await h.pool.query("CREATE TABLE IF NOT EXISTS effects (event_id text NOT NULL, value text NOT NULL)");
    const type = `${ctx}.thing.happened`;
    const { consumer: c, lines } = batchConsumer(ctx, "patient", {}, { waitForStream: true });
    await c.start();
    try {
      expect(lines.some((l) => l.msg.startsWith("cannot consume yet"))).toBe(true);
      await ensureStream(h.nc, { context: ctx, namespace: h.namespace });
      const first = newEventId();
      await publishRaw(ctx, type, first, "before");
      await waitFor(async () => (await effectsOf(first)).length === 1, { timeoutMs: 20_000 });
      await (await jetstreamManager(h.nc)).consumers.delete(streamName(ctx, h.namespace), "patient");
      const second = newEventId();
      await publishRaw(ctx, type, second, "after");
      await waitFor(async () => (await effectsOf(second)).length === 1, { timeoutMs: 20_000 });
      expect(await effectsOf(first)).toEqual(["before"]);
    } finally {
      await c.stop();
    }
  });
});

describe("a consumer serving several purposes", () => {
  test("subject filters take event types as NATS takes subjects", () => {
    expect(subjectMatches("wallet.>", "wallet.transaction.completed")).toBe(true);
    expect(subjectMatches("wallet.>", "wallet")).toBe(false);
    expect(subjectMatches("wallet.transaction.>", "wallet.audit.recorded")).toBe(false);
    expect(subjectMatches("wallet.*.recorded", "wallet.audit.recorded")).toBe(true);
    expect(subjectMatches("wallet.*", "wallet.audit.recorded")).toBe(false);
    expect(subjectMatches("wallet.audit.recorded", "wallet.audit.recorded")).toBe(true);
    expect(subjectMatches("wallet.audit.recorded", "wallet.audit")).toBe(false);
  });

  test("takes over from its purposes' own durables where they left off: each purpose's effect once", async ({
    events,
  }) => {
    const { h, freshContext, publishRaw, settled, batchConsumer } = kit(events);
    const ctx = await freshContext();
    const money = `${ctx}.money.moved`;
    const audit = `${ctx}.audit.recorded`;
    // Each purpose records `<purpose>:<value>`; "bad" is a value mails cannot read, "worse" one nobody can.
    const purpose = (name: string, unreadable: string[]): BatchHandler<string> => ({
      decode: (event) => {
        const value = fromBinary(StringValueSchema, event.message).value;
        if (unreadable.includes(value)) return { poison: `${name} cannot read ${value}` };
        return { events: [{ id: event.id, message: value }] };
      },
      handle: async (batch, tx) => {
        for (const e of batch) {
          await tx.query("INSERT INTO effects (event_id, value) VALUES ($1, $2)", [
            e.id,
            `${name}:${e.message}`,
          ]);
        }
        return undefined;
      },
    });
    const purposes = [
      { inbox: "webhooks", subject: `${ctx}.>`, handler: purpose("webhooks", ["worse"]) },
      { inbox: "mails", subject: `${ctx}.money.>`, handler: purpose("mails", ["bad", "worse"]) },
      { inbox: "audit", subject: audit, handler: purpose("audit", []) },
    ];
    const own = purposes.map((p) => batchConsumer(ctx, p.inbox, p.handler, { filterSubject: p.subject }));
    const [webhooks, mails, auditing] = own.map((o) => o.consumer);
    if (webhooks === undefined || mails === undefined || auditing === undefined)
      throw new Error("unreachable");
    const ids: Record<string, string> = {};
    const publish = async (type: string, value: string) => {
      ids[value] = newEventId();
      await publishRaw(ctx, type, ids[value], value);
    };
    const idsOf = (...values: string[]) => values.map((v) => ids[v]);

    // The release before: a durable per purpose. Mails stop after e1, the others after a2; e3 comes between.
    for (const c of [webhooks, mails, auditing]) await c.start();
    await publish(money, "e1");
    await publish(audit, "a1");
    await waitFor(async () => (await Promise.all(purposes.map((p) => settled(ctx, p.inbox)))).every(Boolean));
    await mails.stop();
    await publish(money, "e2");
    await publish(audit, "a2");
    await waitFor(async () => (await settled(ctx, "webhooks")) && (await settled(ctx, "audit")));
    await webhooks.stop();
    await auditing.stop();
    await publish(money, "e3");

    // A purpose whose filter took nothing since: its ack floor is the stream's start, yet it has nothing left.
    const jsm = await jetstreamManager(h.nc);
    const stream = streamName(ctx, h.namespace);
    await jsm.consumers.add(stream, {
      durable_name: "quiet",
      ack_policy: AckPolicy.Explicit,
      filter_subject: `${h.namespace}.${ctx}.nothing.>`,
    });

    const delivered: string[] = [];
    const { logger, lines, registry } = captureLogs();
    const combined = combinedBatches(purposes, { log: logger });
    const start = () =>
      createConsumer({
        pool: h.pool,
        nc: h.nc,
        context: ctx,
        durable: "everything",
        filterSubject: `${ctx}.>`,
        namespace: h.namespace,
        logger,
        registry,
        ackWaitMs: 2000,
        backoffMs: [20, 40],
        replaces: ["webhooks", "mails", "audit", "quiet", "never-there"],
        batch: {
          ...combined,
          decode: (event) => {
            delivered.push(fromBinary(StringValueSchema, event.message).value);
            return combined.decode(event);
          },
        },
      });
    const exists = (name: string) =>
      jsm.consumers.info(stream, name).then(
        () => true,
        () => false,
      );
    let c = start();
    await c.start();
    try {
      await publish(money, "bad");
      await publish(money, "worse");
      await waitFor(() => settled(ctx, "everything"));
      // Started after e1, the last message every replaced durable had acknowledged with all before it.
      expect(delivered).toEqual(["a1", "e2", "a2", "e3", "bad", "worse"]);
      const { rows } = await h.pool.query<{ value: string }>(
        "SELECT value FROM effects WHERE event_id = ANY($1) ORDER BY value",
        [idsOf("e1", "a1", "e2", "a2", "e3", "bad", "worse")],
      );
      expect(rows.map((r) => r.value)).toEqual([
        "audit:a1",
        "audit:a2",
        "mails:e1",
        "mails:e2",
        "mails:e3",
        "webhooks:a1",
        "webhooks:a2",
        "webhooks:bad",
        "webhooks:e1",
        "webhooks:e2",
        "webhooks:e3",
      ]);
      const inbox = await h.pool.query<{ consumer: string }>(
        "SELECT DISTINCT consumer FROM inbox WHERE event_id = ANY($1) ORDER BY consumer",
        [idsOf("e3")],
      );
      expect(inbox.rows.map((r) => r.consumer)).toEqual(["mails", "webhooks"]);
      const failed = lines.find(
        (l) => l.msg === "event cannot be handled for every purpose; the others handle it",
      );
      expect(failed).toMatchObject({ eventId: ids.bad, reasons: ["mails: mails cannot read bad"] });
      expect(
        lines.some((l) => l.msg === "event cannot be handled; terminated" && l.eventId === ids.worse),
      ).toBe(true);
      expect(await Promise.all(["webhooks", "mails", "audit", "quiet"].map(exists))).toEqual([
        false,
        false,
        false,
        false,
      ]);
    } finally {
      await c.stop();
    }

    // A replica of the release before, still running, opened its durable again: the next start deletes it.
    await jsm.consumers.add(stream, { durable_name: "mails", ack_policy: AckPolicy.Explicit });
    c = start();
    await c.start();
    try {
      expect(await exists("mails")).toBe(false);
    } finally {
      await c.stop();
    }
  });

  test("taking over from a durable that had acknowledged everything, it delivers only what comes next", async ({
    events,
  }) => {
    const { freshContext, publishRaw, effectsOf, settled, batchConsumer } = kit(events);
    const ctx = await freshContext();
    const type = `${ctx}.money.moved`;
    const old = batchConsumer(ctx, "caught-up");
    await old.consumer.start();
    const before = newEventId();
    await publishRaw(ctx, type, before, "before");
    await waitFor(() => settled(ctx, "caught-up"));
    await old.consumer.stop();

    // The kit's batch consumer, noting what it is handed.
    const delivered: string[] = [];
    const { consumer: c } = batchConsumer(
      ctx,
      "takes-over",
      {
        decode: (event) => {
          const value = fromBinary(StringValueSchema, event.message).value;
          delivered.push(value);
          return { events: [{ id: event.id, message: value }] };
        },
      },
      { replaces: ["caught-up"] },
    );
    await c.start();
    try {
      const after = newEventId();
      await publishRaw(ctx, type, after, "after");
      await waitFor(async () => (await effectsOf(after)).length === 1);
      await waitFor(() => settled(ctx, "takes-over"));
      expect(delivered).toEqual(["after"]);
      expect(await effectsOf(before)).toEqual(["before"]);
    } finally {
      await c.stop();
    }
  });
});
