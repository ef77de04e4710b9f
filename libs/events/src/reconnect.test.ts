import { create } from "@bufbuild/protobuf";
import { StringValueSchema } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { migrate, withTransaction } from "@fintech/db";
import { createReadiness, createServer } from "@fintech/platform";
import { PingService } from "@fintech/proto/fintech/platform/v1/bench_pb.js";
import {
  Health,
  HealthCheckResponse_ServingStatus as Status,
} from "@fintech/proto/grpc/health/v1/health_pb.js";
import { startOwnNats, test, waitFor } from "@fintech/testing";
import { describe, expect } from "vitest";
import { createConsumer, eventHandler } from "./consumer.js";
import { enqueue } from "./enqueue.js";
import { ensureStream } from "./ensure-stream.js";
import { eventsMigrationsDir } from "./migrations-dir.js";
import { connectNats } from "./nats-connection.js";
import { createOutboxRelay } from "./outbox-relay.js";
import { captureLogs } from "./test/harness.js";

const TYPE = "rc.thing.happened";

describe("NATS going away and coming back", () => {
  test("readiness follows the connection, the outbox keeps its rows, and everything drains exactly once", async ({
    pg,
  }) => {
    const nats = await startOwnNats();
    await migrate({ url: pg.url, schema: pg.schema, dirs: [eventsMigrationsDir] });
    await pg.pool.query("CREATE TABLE effects (event_id text NOT NULL, value text NOT NULL)");
    const { logger, lines, registry } = captureLogs();
    const nc = await connectNats({
      servers: nats.url,
      name: "reconnect-test",
      logger,
      registry,
      reconnectTimeWaitMs: 100,
      reconnectJitterMs: 50,
    });
    const server = createServer({
      name: "reconnect-test",
      logger,
      routes: (router) => router.service(PingService, { ping: (req) => ({ payload: req.payload }) }),
      readiness: createReadiness({ nats: nc }),
    });
    const relay = createOutboxRelay({
      pool: pg.pool,
      nc,
      source: "rc",
      logger,
      registry,
      pollIntervalMs: 100,
    });
    const consumer = createConsumer({
      pool: pg.pool,
      nc,
      context: "rc",
      durable: "rc-effects",
      filterSubject: "rc.>",
      handlers: {
        [TYPE]: eventHandler(StringValueSchema, async (event, tx) => {
          await tx.query("INSERT INTO effects (event_id, value) VALUES ($1, $2)", [
            event.id,
            event.message.value,
          ]);
        }),
      },
      logger,
      registry,
      backoffMs: [100],
      ackWaitMs: 2000,
    });
    try {
      await ensureStream(nc, { context: "rc" });
      const { url } = await server.listen({ host: "127.0.0.1", port: 0 });
      const health = createClient(Health, createGrpcTransport({ baseUrl: url }));
      const status = async () => (await health.check({ service: "" })).status;
      const publish = (values: string[]) =>
        withTransaction(pg.pool, async (tx) => {
          for (const value of values) {
            await enqueue(tx, {
              type: TYPE,
              schema: StringValueSchema,
              message: create(StringValueSchema, { value }),
            });
          }
        });
      const effects = async () =>
        (await pg.pool.query<{ n: number }>("SELECT count(*)::int4 AS n FROM effects")).rows[0]?.n ?? 0;
      const unpublished = async () =>
        (
          await pg.pool.query<{ n: number }>(
            "SELECT count(*)::int4 AS n FROM outbox WHERE published_at IS NULL",
          )
        ).rows[0]?.n ?? 0;

      relay.start();
      await consumer.start();
      await publish(["a1", "a2", "a3"]);
      await waitFor(async () => (await effects()) === 3, { timeoutMs: 10_000 });
      expect(await status()).toBe(Status.SERVING);

      await nats.kill();
      await waitFor(async () => (await status()) === Status.NOT_SERVING, { timeoutMs: 10_000 });
      await publish(["b1", "b2", "b3", "b4"]);
      // The relay has tried and failed at least once more since, and left every row for later.
      const failedBefore = (
        await registry.getSingleMetricAsString("events_outbox_relay_errors_total")
      ).trim();
      await waitFor(
        async () =>
          (await registry.getSingleMetricAsString("events_outbox_relay_errors_total")).trim() !==
          failedBefore,
        { timeoutMs: 15_000 },
      );
      expect(await unpublished()).toBe(4);
      expect(await status()).toBe(Status.NOT_SERVING);
      expect(await effects()).toBe(3);

      await nats.start();
      await waitFor(async () => (await status()) === Status.SERVING, { timeoutMs: 15_000 });
      await publish(["c1"]);
      await waitFor(async () => (await effects()) === 8, { timeoutMs: 20_000 });
      expect(await unpublished()).toBe(0);
      // Exactly once: no event had a second effect, however often it was published or delivered.
      const { rows } = await pg.pool.query<{ value: string; n: number }>(
        "SELECT value, count(*)::int4 AS n FROM effects GROUP BY value ORDER BY value",
      );
      expect(rows).toEqual(
        ["a1", "a2", "a3", "b1", "b2", "b3", "b4", "c1"].map((value) => ({ value, n: 1 })),
      );

      const metrics = await registry.metrics();
      expect(metrics).toMatch(/events_nats_connected\{connection="reconnect-test"\} 1/);
      expect(metrics).toMatch(/events_nats_reconnects_total\{connection="reconnect-test"\} [1-9]/);
      const messages = lines.filter((l) => l.component === "nats").map((l) => l.msg);
      expect(messages).toContain("nats disconnected");
      expect(messages).toContain("nats reconnecting");
      expect(messages).toContain("nats reconnected");
    } finally {
      await consumer.stop();
      await relay.stop();
      await server.close({ graceMs: 0 });
      await nc.close();
      await nats.cleanup();
    }
  });
});
