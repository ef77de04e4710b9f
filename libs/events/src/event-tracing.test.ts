import { create } from "@bufbuild/protobuf";
import { StringValueSchema } from "@bufbuild/protobuf/wkt";
import type { Telemetry } from "@fintech/platform";
import { currentSpan, runInSpan, startTelemetry } from "@fintech/platform";
import type { OtlpReceiver, ReceivedSpan } from "@fintech/testing";
import { startOtlpReceiver, waitFor } from "@fintech/testing";
import { afterAll, beforeAll, describe, expect } from "vitest";
import { createConsumer, eventHandler } from "./consumer.js";
import { enqueue } from "./enqueue.js";
import { ensureStream } from "./ensure-stream.js";
import { createOutboxRelay } from "./outbox-relay.js";
import { captureLogs, test } from "./test/harness.js";

describe("event spans", () => {
  let receiver: OtlpReceiver;
  let telemetry: Telemetry;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    telemetry = startTelemetry({
      serviceName: "events-test",
      logger: captureLogs().logger,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: "50" },
    });
  });
  afterAll(async () => {
    await telemetry?.shutdown();
    await receiver?.close();
  });

  async function traceOf(traceId: string, done: (spans: ReceivedSpan[]) => boolean): Promise<ReceivedSpan[]> {
    return waitFor(
      async () => {
        await telemetry.flush();
        const spans = receiver.spans.filter((s) => s.traceId === traceId);
        return done(spans) ? spans : undefined;
      },
      { timeoutMs: 10_000 },
    );
  }

  test("an event is published as a child of the work that wrote it, and each delivery is handled as a child of the publish", async ({
    events,
  }) => {
    const { pg, nats } = events;
    const ctx = "traced1";
    const type = `${ctx}.thing.done`;
    await ensureStream(nats.nc, { context: ctx, namespace: nats.namespace });
    const { logger, registry } = captureLogs();
    const relay = createOutboxRelay({
      pool: pg.pool,
      nc: nats.nc,
      source: ctx,
      namespace: nats.namespace,
      logger,
      registry,
    });
    const handledIn: string[] = [];
    let failures = 1;
    const consumer = createConsumer({
      pool: pg.pool,
      nc: nats.nc,
      context: ctx,
      durable: "traced",
      filterSubject: `${ctx}.>`,
      namespace: nats.namespace,
      logger,
      registry,
      backoffMs: [20],
      handlers: {
        [type]: eventHandler(StringValueSchema, async () => {
          handledIn.push(currentSpan()?.spanId ?? "none");
          if (failures-- > 0) throw new Error("not yet");
        }),
      },
    });

    const rpc = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", traceFlags: 1 };
    await runInSpan(rpc, () =>
      enqueue(pg.pool, {
        type,
        schema: StringValueSchema,
        message: create(StringValueSchema, { value: "x" }),
      }),
    );
    await consumer.start();
    try {
      expect(await relay.runOnce()).toBe(1);
      await waitFor(() => handledIn.length === 2);
    } finally {
      await consumer.stop();
    }

    const spans = await traceOf(rpc.traceId, (s) => s.filter((x) => x.kind === "consumer").length === 2);
    const publish = spans.find((s) => s.kind === "producer");
    expect(publish).toMatchObject({
      name: `publish ${type}`,
      parentSpanId: rpc.spanId,
      attributes: { "messaging.system": "nats", "messaging.destination.name": `${nats.namespace}.${type}` },
    });
    const deliveries = spans.filter((s) => s.kind === "consumer");
    expect(deliveries.map((d) => d.parentSpanId)).toEqual([publish?.spanId, publish?.spanId]);
    expect(deliveries.map((d) => d.name)).toEqual([`process ${type}`, `process ${type}`]);
    // The failed delivery is an error, the retry that worked is not.
    expect(deliveries.map((d) => d.status).sort()).toEqual(["error", "unset"]);
    // Each delivery's transaction (inbox row and effect) is a span of it, and the handler ran inside that.
    const transactions = spans.filter((s) => s.name === "transaction");
    expect(transactions.map((t) => t.parentSpanId).sort()).toEqual(deliveries.map((d) => d.spanId).sort());
    expect(transactions.map((t) => t.spanId).sort()).toEqual([...handledIn].sort());
    expect(transactions[0]).toMatchObject({ kind: "client", attributes: { "db.system.name": "postgresql" } });
  });

  test("an event written outside any trace is published without a span", async ({ events }) => {
    const { pg, nats } = events;
    const ctx = "traced2";
    await ensureStream(nats.nc, { context: ctx, namespace: nats.namespace });
    const { logger, registry } = captureLogs();
    const relay = createOutboxRelay({
      pool: pg.pool,
      nc: nats.nc,
      source: ctx,
      namespace: nats.namespace,
      logger,
      registry,
    });
    const before = receiver.spans.length;
    await enqueue(pg.pool, {
      type: `${ctx}.thing.done`,
      schema: StringValueSchema,
      message: create(StringValueSchema, { value: "y" }),
    });
    expect(await relay.runOnce()).toBe(1);
    await telemetry.flush();
    expect(receiver.spans.slice(before).filter((s) => s.kind === "producer")).toEqual([]);
  });
});
