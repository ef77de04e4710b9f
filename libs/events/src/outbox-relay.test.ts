import { spawn } from "node:child_process";
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { create, fromBinary } from "@bufbuild/protobuf";
import { StringValueSchema } from "@bufbuild/protobuf/wkt";
import { createPool, withTransaction } from "@fintech/db";
import { copyOutboxRows, putBackOutboxRows, waitFor } from "@fintech/testing";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { Registry } from "prom-client";
import { describe, expect } from "vitest";
import { enqueue } from "./enqueue.js";
import { ensureStream } from "./ensure-stream.js";
import { InvalidEventError } from "./errors.js";
import { streamName } from "./namespace.js";
import type { OutboxRelayOptions } from "./outbox-relay.js";
import { claimOpening, createOutboxRelay } from "./outbox-relay.js";
import type { EventsFixture } from "./test/harness.js";
import { captureLogs, recordingPool, streamMessages, test } from "./test/harness.js";

let contexts = 0;

/** Helpers bound to the file's schema and namespace. */
function kit({ pg, nats }: EventsFixture) {
  const h = { pool: pg.pool, nc: nats.nc, namespace: nats.namespace };

  /** A fresh stream per test, so message counts are the test's own. */
  async function freshContext(): Promise<{ ctx: string; stream: string }> {
    const ctx = `relay${++contexts}`;
    await ensureStream(h.nc, { context: ctx, namespace: h.namespace });
    return { ctx, stream: streamName(ctx, h.namespace) };
  }

  function relay(ctx: string, extra: Partial<OutboxRelayOptions> = {}) {
    const { logger, lines, registry } = captureLogs();
    const r = createOutboxRelay({
      pool: h.pool,
      nc: h.nc,
      source: ctx,
      namespace: h.namespace,
      logger,
      registry,
      ...extra,
    });
    return { relay: r, lines, registry };
  }

  async function enqueueCommitted(ctx: string, value: string, pool = h.pool): Promise<string> {
    return withTransaction(pool, (tx) =>
      enqueue(tx, {
        type: `${ctx}.thing.happened`,
        schema: StringValueSchema,
        message: create(StringValueSchema, { value }),
        headers: { traceparent: TRACEPARENT },
      }),
    );
  }

  /** Whether the row is still in the outbox, waiting to be published: a published row is deleted. */
  async function waiting(id: string): Promise<boolean> {
    const { rowCount } = await h.pool.query("SELECT 1 FROM outbox WHERE id = $1", [id]);
    return rowCount === 1;
  }

  return { h, freshContext, relay, enqueueCommitted, waiting };
}

const TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

describe("outbox relay", () => {
  test("publishes a committed event once, with CloudEvents headers and the protobuf payload", async ({
    events,
  }) => {
    const { h, freshContext, relay, enqueueCommitted, waiting } = kit(events);
    const { ctx, stream } = await freshContext();
    const id = await enqueueCommitted(ctx, "hello");
    const { relay: r, registry } = relay(ctx);

    expect(await r.runOnce()).toBe(1);
    expect(await r.runOnce()).toBe(0);

    expect(await streamMessages(h.nc, stream)).toBe(1);
    expect(await waiting(id)).toBe(false);
    const jsm = await jetstreamManager(h.nc);
    const stored = await jsm.streams.getMessage(stream, { seq: 1 });
    expect(stored?.subject).toBe(`${h.namespace}.${ctx}.thing.happened`);
    const hdr = stored?.header;
    expect(hdr?.get("Nats-Msg-Id")).toBe(id);
    expect(hdr?.get("ce-specversion")).toBe("1.0");
    expect(hdr?.get("ce-id")).toBe(id);
    expect(hdr?.get("ce-type")).toBe(`${ctx}.thing.happened`);
    expect(hdr?.get("ce-source")).toBe(ctx);
    expect(Number.isNaN(Date.parse(hdr?.get("ce-time") ?? ""))).toBe(false);
    expect(hdr?.get("content-type")).toBe("application/protobuf");
    expect(hdr?.get("traceparent")).toBe(TRACEPARENT);
    expect(fromBinary(StringValueSchema, stored?.data ?? new Uint8Array()).value).toBe("hello");
    const published = await registry.getSingleMetric("events_outbox_published_total")?.get();
    expect(published?.values.find((v) => v.labels.source === ctx)?.value).toBe(1);
  });

  test("publishes nothing for an event whose transaction rolled back", async ({ events }) => {
    const { h, freshContext, relay } = kit(events);
    const { ctx, stream } = await freshContext();
    const rollback = new Error("roll back");
    await expect(
      withTransaction(h.pool, async (tx) => {
        await enqueue(tx, {
          type: `${ctx}.thing.happened`,
          schema: StringValueSchema,
          message: create(StringValueSchema, { value: "never" }),
        });
        throw rollback;
      }),
    ).rejects.toBe(rollback);
    const { relay: r } = relay(ctx);
    expect(await r.runOnce()).toBe(0);
    expect(await streamMessages(h.nc, stream)).toBe(0);
  });

  test("rejects an event type that is not a literal subject, writing nothing", async ({ events }) => {
    const { h } = kit(events);
    const before = await h.pool.query("SELECT count(*)::int4 AS n FROM outbox");
    await expect(
      enqueue(h.pool, {
        type: "fx.*.updated",
        schema: StringValueSchema,
        message: create(StringValueSchema),
      }),
    ).rejects.toThrow(InvalidEventError);
    const after = await h.pool.query("SELECT count(*)::int4 AS n FROM outbox");
    expect(after.rows[0]).toEqual(before.rows[0]);
  });

  test("after a crash between publish and delete, publishing again leaves one message in the stream", async ({
    events,
  }) => {
    const { h, freshContext, relay, enqueueCommitted, waiting } = kit(events);
    const { ctx, stream } = await freshContext();
    const id = await enqueueCommitted(ctx, "crash");

    const child = spawn(
      process.execPath,
      [
        "--conditions=source",
        "--import",
        "tsx",
        fileURLToPath(new URL("./test/relay-crash-child.ts", import.meta.url)),
      ],
      {
        env: {
          ...process.env,
          DATABASE_URL: events.pg.url,
          NATS_URL: events.nats.url,
          SCHEMA: events.pg.schema,
          NAMESPACE: h.namespace,
          SOURCE: ctx,
        },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    const exited = once(child, "exit");
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    try {
      await waitFor(() => out.includes("published"), { timeoutMs: 15_000 });
    } finally {
      child.kill("SIGKILL");
    }
    expect(await exited).toEqual([null, "SIGKILL"]);

    // The child's PubAck arrived but its deletion died with it.
    expect(await streamMessages(h.nc, stream)).toBe(1);
    expect(await waiting(id)).toBe(true);

    const { relay: r } = relay(ctx);
    // The row stays locked until Postgres notices the dead connection; SKIP LOCKED skips it meanwhile.
    await waitFor(async () => (await r.runOnce()) === 1);
    expect(await waiting(id)).toBe(false);
    expect(await streamMessages(h.nc, stream)).toBe(1);
  }, 20_000);

  test("republishing a row whose deletion was lost is acknowledged as a duplicate by JetStream", async ({
    events,
  }) => {
    const { h, freshContext, relay, enqueueCommitted } = kit(events);
    const { ctx, stream } = await freshContext();
    const id = await enqueueCommitted(ctx, "again");
    const rows = await copyOutboxRows(h.pool, `${ctx}.thing.happened`);
    const { relay: r } = relay(ctx);
    expect(await r.runOnce()).toBe(1);
    // The row back, as if the pass had published it and died before its deletion committed.
    await putBackOutboxRows(h.pool, rows);

    expect(await r.runOnce()).toBe(1);
    expect(await streamMessages(h.nc, stream)).toBe(1);
    const dup = await jetstream(h.nc).publish(`${h.namespace}.${ctx}.thing.happened`, new Uint8Array(), {
      msgID: id,
    });
    expect(dup.duplicate).toBe(true);
  });

  test("refuses a batch size that is not a positive integer (it is written into the claim's SQL)", async ({
    events,
  }) => {
    const { relay } = kit(events);
    for (const batchSize of [0, 2.5, Number.NaN, -1]) {
      expect(() => relay("relaybad", { batchSize })).toThrow(RangeError);
    }
  });

  test("relays running side by side claim disjoint rows", async ({ events }) => {
    const { h, freshContext, relay, enqueueCommitted } = kit(events);
    const { ctx, stream } = await freshContext();
    for (let i = 0; i < 30; i++) await enqueueCommitted(ctx, `v${i}`);
    const a = relay(ctx, { batchSize: 5 }).relay;
    const b = relay(ctx, { batchSize: 5 }).relay;
    let total = 0;
    for (;;) {
      const [x, y] = await Promise.all([a.runOnce(), b.runOnce()]);
      total += x + y;
      if (x + y === 0) break;
    }
    expect(total).toBe(30);
    expect(await streamMessages(h.nc, stream)).toBe(30);
  });

  test("two relays started side by side publish each event once; after one stops the other publishes alone", async ({
    events,
  }) => {
    const { h, freshContext, relay, enqueueCommitted } = kit(events);
    const { ctx, stream } = await freshContext();
    const a = relay(ctx, { batchSize: 7, pollIntervalMs: 50 });
    const b = relay(ctx, { batchSize: 7, pollIntervalMs: 50 });
    const published = async (r: { registry: Registry }) =>
      ((await r.registry.getSingleMetric("events_outbox_published_total")?.get())?.values ?? []).reduce(
        (n, v) => n + v.value,
        0,
      );
    const unpublished = async (ids: string[]) =>
      (
        await h.pool.query<{ n: number }>(
          "SELECT count(*)::int4 AS n FROM outbox WHERE id = ANY($1::uuid[])",
          [ids],
        )
      ).rows[0]?.n;
    a.relay.start();
    b.relay.start();
    let aStopped = false;
    try {
      const first = await Promise.all(Array.from({ length: 60 }, (_, i) => enqueueCommitted(ctx, `v${i}`)));
      await waitFor(
        async () => (await unpublished(first)) === 0 && (await published(a)) + (await published(b)) >= 60,
      );
      // Every row published by one relay only: the two counts add up to the rows, and the stream holds each once.
      expect((await published(a)) + (await published(b))).toBe(60);
      expect(await streamMessages(h.nc, stream)).toBe(60);

      await a.relay.stop();
      aStopped = true;
      const byA = await published(a);
      const second = await Promise.all(Array.from({ length: 25 }, (_, i) => enqueueCommitted(ctx, `w${i}`)));
      await waitFor(async () => (await unpublished(second)) === 0 && (await published(b)) + byA >= 85);
      expect(await published(a)).toBe(byA);
      expect((await published(a)) + (await published(b))).toBe(85);
      expect(await streamMessages(h.nc, stream)).toBe(85);
    } finally {
      await Promise.all([aStopped ? undefined : a.relay.stop(), b.relay.stop()]);
    }
  });

  test("once started, publishes on commit without waiting for the poll interval", async ({ events }) => {
    const { h, freshContext, relay, enqueueCommitted, waiting } = kit(events);
    const { ctx, stream } = await freshContext();
    const { relay: r, registry } = relay(ctx, { pollIntervalMs: 60_000 });
    r.start();
    try {
      // The backlog gauge is set at the end of the first pass, the one start() runs.
      const backlog = registry.getSingleMetric("events_outbox_backlog");
      await waitFor(async () => ((await backlog?.get())?.values.length ?? 0) > 0);
      const id = await enqueueCommitted(ctx, "wake");
      await waitFor(async () => !(await waiting(id)), { timeoutMs: 3000 });
      expect(await streamMessages(h.nc, stream)).toBe(1);
    } finally {
      await r.stop();
    }
  });

  test("a commit wakes the relays of its own pool and sends no NOTIFY, whose lock would queue every commit", async ({
    events,
  }) => {
    const { h, freshContext, relay, enqueueCommitted, waiting } = kit(events);
    const { ctx } = await freshContext();
    // Another process's relay, on the same outbox through a pool of its own.
    const elsewhere = createPool({ url: events.pg.url, schema: events.pg.schema, max: 2 });
    const own = relay(ctx, { pollIntervalMs: 60_000 });
    const other = relay(ctx, { pollIntervalMs: 60_000, pool: elsewhere });
    const listener = await h.pool.connect();
    const heard: string[] = [];
    listener.on("notification", (n) => heard.push(n.channel));
    try {
      const { rows } = await listener.query<{ schema: string }>("SELECT current_schema() AS schema");
      // The channels relays of earlier versions listened on.
      for (const channel of [`outbox.${rows[0]?.schema}`.slice(0, 63), "outbox"]) {
        await listener.query(`LISTEN ${listener.escapeIdentifier(channel)}`);
      }
      const passes = async (registry: Registry) =>
        (await registry.getSingleMetric("events_outbox_backlog")?.get())?.values.length ?? 0;
      own.relay.start();
      other.relay.start();
      await waitFor(async () => (await passes(own.registry)) > 0 && (await passes(other.registry)) > 0);
      const id = await enqueueCommitted(ctx, "mine");
      await waitFor(async () => !(await waiting(id)), { timeoutMs: 3000 });
      const published = async (registry: Registry) =>
        (await registry.getSingleMetric("events_outbox_published_total")?.get())?.values[0]?.value ?? 0;
      expect(await published(own.registry)).toBe(1);
      expect(await published(other.registry)).toBe(0);
      await sleep(200);
      expect(heard).toEqual([]);
    } finally {
      await Promise.all([own.relay.stop(), other.relay.stop()]);
      await listener.query("UNLISTEN *");
      listener.release();
      await elsewhere.end();
    }
  });

  test("with lingerMs, the commits that woke a relay meanwhile are published by one pass, after the linger", async ({
    events,
  }) => {
    const { freshContext, relay, enqueueCommitted, waiting } = kit(events);
    const { ctx, stream } = await freshContext();
    // The writes go through the relay's own pool, whose statements are recorded, so that their commits wake it.
    const { pool, sent } = recordingPool(events.pg.url, events.pg.schema);
    const { relay: r, registry } = relay(ctx, { pollIntervalMs: 60_000, lingerMs: 400, pool });
    const deletions = () => sent.filter((text) => text.startsWith("DELETE FROM outbox WHERE id = ANY"));
    r.start();
    try {
      // Its first pass, at start, found nothing.
      const backlog = registry.getSingleMetric("events_outbox_backlog");
      await waitFor(async () => ((await backlog?.get())?.values.length ?? 0) > 0);
      const ids = [
        await enqueueCommitted(ctx, "a", pool),
        await enqueueCommitted(ctx, "b", pool),
        await enqueueCommitted(ctx, "c", pool),
      ];
      await sleep(150);
      expect(await Promise.all(ids.map(waiting))).toEqual([true, true, true]);
      await waitFor(async () => (await Promise.all(ids.map(waiting))).every((w) => !w), { timeoutMs: 3000 });
      // Deleted by one statement: one pass.
      expect(deletions()).toHaveLength(1);
      for (const id of ids) expect(deletions()[0]).toContain(id);
      expect(await streamMessages(events.nats.nc, stream)).toBe(3);

      // Stopped while it lingers (a service shutting down), it publishes what it was waiting for first.
      const last = await enqueueCommitted(ctx, "d", pool);
      await r.stop();
      expect(await waiting(last)).toBe(false);
      expect(await streamMessages(events.nats.nc, stream)).toBe(4);
    } finally {
      await r.stop();
      await pool.end();
    }
  });

  test("logs a failing pass once, keeps retrying, and publishes once the stream exists", async ({
    events,
  }) => {
    const { h, relay, enqueueCommitted, waiting } = kit(events);
    const ctx = `relay${++contexts}`;
    const id = await enqueueCommitted(ctx, "late");
    const { relay: r, lines, registry } = relay(ctx, { pollIntervalMs: 20 });
    r.start();
    try {
      const errors = registry.getSingleMetric("events_outbox_relay_errors_total");
      await waitFor(async () => ((await errors?.get())?.values[0]?.value ?? 0) >= 3);
      expect(lines.filter((l) => l.level === 50)).toHaveLength(1);
      expect(await waiting(id)).toBe(true);
      // The operator sees the stuck event and how long it has waited.
      const backlog = registry.getSingleMetric("events_outbox_backlog");
      const age = registry.getSingleMetric("events_outbox_backlog_age_seconds");
      await waitFor(async () => ((await age?.get())?.values[0]?.value ?? 0) > 0);
      expect((await backlog?.get())?.values[0]?.value).toBe(1);

      await ensureStream(h.nc, { context: ctx, namespace: h.namespace });
      await waitFor(async () => !(await waiting(id)));
      expect(await streamMessages(h.nc, streamName(ctx, h.namespace))).toBe(1);
      await waitFor(() => lines.some((l) => l.msg === "outbox relay recovered"));
    } finally {
      await r.stop();
    }
  });

  test("a pass skips the rows published since the last vacuum without reading them again", async ({
    events,
  }) => {
    const { h, enqueueCommitted } = kit(events);
    // 10,000 rows published, so deleted: gone from the unpublished rows' index only once a vacuum runs.
    await h.pool.query(
      `INSERT INTO outbox (id, subject, type, payload)
       SELECT gen_random_uuid(), 'old.thing.happened', 'old.thing.happened', decode('00', 'hex')
         FROM generate_series(1, 10000)`,
    );
    await h.pool.query("DELETE FROM outbox WHERE subject = 'old.thing.happened'");
    const wanted = await enqueueCommitted("unread", "wanted");
    /** One pass's claim: the rows it got, and how many of the outbox's pages it read to get them. */
    const pass = () =>
      withTransaction(
        h.pool,
        async (tx, claimed) => {
          const { rows } = await tx.query<{ n: number }>(
            "SELECT pg_stat_get_xact_blocks_fetched('outbox'::regclass)::int AS n",
          );
          return { ids: (claimed?.rows ?? []).map((r: { id: string }) => r.id), pages: rows[0]?.n ?? -1 };
        },
        { opening: claimOpening(500) },
      );
    try {
      const first = await pass();
      expect(first.ids).toEqual([wanted]);
      // The first pass marked the dead rows in the index (once no transaction could still see them); the
      // next ones read the page of the row they claim and not the 10,000 others'.
      let last = first;
      await waitFor(
        async () => {
          last = await pass();
          return last.pages < 10;
        },
        { timeoutMs: 20_000 },
      ).catch(() => undefined);
      expect(last).toEqual({ ids: [wanted], pages: expect.any(Number) });
      expect(last.pages).toBeLessThan(10);
    } finally {
      // The other tests' relays share this outbox: leave them neither the row nor the 10,000.
      await h.pool.query("DELETE FROM outbox WHERE subject = 'old.thing.happened' OR id = $1", [wanted]);
    }
  });

  test("deletes the rows a release before this one marked published, and does not publish them", async ({
    events,
  }) => {
    const { h, freshContext, relay, enqueueCommitted } = kit(events);
    const { ctx, stream } = await freshContext();
    const id = await enqueueCommitted(ctx, "old");
    await h.pool.query("UPDATE outbox SET published_at = now() WHERE id = $1", [id]);
    const { relay: r } = relay(ctx);
    r.start();
    try {
      await waitFor(async () => {
        const { rowCount } = await h.pool.query("SELECT 1 FROM outbox WHERE id = $1", [id]);
        return rowCount === 0;
      });
      expect(await streamMessages(h.nc, stream)).toBe(0);
    } finally {
      await r.stop();
    }
  });
});

describe("namespaces", () => {
  test("keep streams and consumers of the same context apart", async ({ events }) => {
    const { h, relay, enqueueCommitted } = kit(events);
    const other = `o${h.namespace.slice(1)}`;
    const ctx = "shared";
    try {
      await ensureStream(h.nc, { context: ctx, namespace: h.namespace });
      await ensureStream(h.nc, { context: ctx, namespace: other });
      await enqueueCommitted(ctx, "mine");
      expect(await relay(ctx).relay.runOnce()).toBe(1);
      expect(await streamMessages(h.nc, streamName(ctx, h.namespace))).toBe(1);
      expect(await streamMessages(h.nc, streamName(ctx, other))).toBe(0);
      const jsm = await jetstreamManager(h.nc);
      const info = await jsm.consumers.add(streamName(ctx, other), {
        durable_name: "probe",
        ack_policy: AckPolicy.Explicit,
      });
      expect(info.num_pending).toBe(0);
    } finally {
      const jsm = await jetstreamManager(h.nc);
      await jsm.streams.delete(streamName(ctx, other)).catch(() => false);
    }
  });
});
