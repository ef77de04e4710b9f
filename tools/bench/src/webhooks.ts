// How fast notifications delivers webhooks, and how long after a purchase completes its webhook arrives: the real
// notifications service (its consumers, delivery worker and signing) on a scratch schema and namespace, a local
// receiver answering 204, and BENCH_WEBHOOK_EVENTS wallet.transaction.completed events (default 2,000, for 8
// endpoints of 8 users) published at once on JetStream as the wallet's relay would: deliveries/s. Then
// BENCH_WEBHOOK_PACED (500) more, one every 20 ms: the delay from each purchase's completion event to its webhook's
// arrival at the receiver (p50, p99). Figures are printed, never asserted.
import { randomBytes, randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createPool, migrate } from "@fintech/db";
import {
  CloudEventHeaders,
  ensureStream,
  eventsMigrationsDir,
  namespacedSubject,
  streamName,
} from "@fintech/events";
import { build, migrationsDir, parseNotificationsConfig } from "@fintech/notifications";
import { createLogger, systemClock } from "@fintech/platform";
import {
  TransactionEventSchema,
  TransactionStatus,
  TransactionType,
} from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import { createTestTokens } from "@fintech/testing/tokens";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, headers } from "@nats-io/transport-node";

const EVENTS = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 2_000);
const USERS = 8;
const PACED = Number(process.env.BENCH_WEBHOOK_PACED ?? 500);
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const suffix = randomBytes(4).toString("hex");
const schema = `bench_notifications_${suffix}`;
const namespace = `bench${suffix}`;
const logger = createLogger({ name: "bench", level: "warn" });

const config = parseNotificationsConfig({
  ...process.env,
  DB_SCHEMA: schema,
  EVENTS_NAMESPACE: namespace,
  WEBHOOK_ALLOW_HTTP: "true",
  WEBHOOK_ALLOW_PRIVATE_TARGETS: "true",
});
await migrate({ url: DATABASE_URL, schema, dirs: [eventsMigrationsDir, migrationsDir] });
const pool = createPool({ url: DATABASE_URL, schema, max: 10 });
const nc = await connect({ servers: NATS_URL, noAsyncTraces: true });
for (const context of ["notifications", "wallet", "fraud", "identity", "fx"])
  await ensureStream(nc, { context, namespace });

// Where each event's publication time is read back: the body's created_at is the event's occurred_at.
const delays: number[] = [];
let lastAt = 0;
const receiver = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const now = Date.now();
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { created_at: string };
    delays.push(now - Date.parse(body.created_at));
    lastAt = now;
    res.writeHead(204).end();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
const { port } = receiver.address() as AddressInfo;

// The endpoints are made through the domain directly; the RPC port is not what is measured.
const { authenticator } = await createTestTokens({ kid: "bench" });
// No e-mail address is known to it: the receipts of these purchases are not what is measured.
const app = build(
  { ...config, METRICS_PORT: 0 },
  { pool, nc, logger, clock: systemClock, authenticator, recipients: async () => undefined },
);
const users = Array.from({ length: USERS }, () => randomUUID());
for (const userId of users) {
  await app.webhooks.create(
    { userId, admin: false },
    {
      url: `http://127.0.0.1:${port}/hook`,
      eventTypes: ["transaction.completed"],
      description: "",
      platformWide: false,
    },
  );
}
await app.start({ port: 0, host: "127.0.0.1" });
try {
  const js = jetstream(nc);
  const publishPurchase = async (i: number) => {
    const at = new Date();
    const h = headers();
    h.set(CloudEventHeaders.specVersion, "1.0");
    h.set(CloudEventHeaders.id, randomUUID());
    h.set(CloudEventHeaders.type, "wallet.transaction.completed");
    h.set(CloudEventHeaders.source, "wallet");
    h.set(CloudEventHeaders.time, at.toISOString());
    h.set(CloudEventHeaders.contentType, "application/protobuf");
    const payload = toBinary(
      TransactionEventSchema,
      create(TransactionEventSchema, {
        transactionId: randomUUID(),
        userId: users[i % USERS] ?? "",
        type: TransactionType.PURCHASE,
        status: TransactionStatus.COMPLETED,
        amount: { amount: "12.50", currency: "MYR" },
        occurredAt: timestampFromDate(at),
      }),
    );
    await js.publish(namespacedSubject("wallet.transaction.completed", namespace), payload, { headers: h });
  };
  const waitFor = async (count: number) => {
    const deadline = Date.now() + 300_000;
    while (delays.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  };
  const percentiles = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const pct = (p: number) =>
      sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
    return `p50 ${pct(50)} ms, p99 ${pct(99)} ms`;
  };

  // Throughput: every event published at once, delivered as fast as the service goes.
  const started = Date.now();
  for (let i = 0; i < EVENTS; i++) await publishPurchase(i);
  await waitFor(EVENTS);
  const seconds = (lastAt - started) / 1000;
  console.log(
    `webhooks burst: ${delays.length}/${EVENTS} delivered in ${seconds.toFixed(2)} s: ` +
      `${Math.round(delays.length / seconds)} deliveries/s (8 endpoints on one receiver; ` +
      `publish-to-arrival under the burst ${percentiles(delays)})`,
  );

  // Delay: one purchase completed every 20 ms, each timed from its publication to its webhook's arrival.
  delays.length = 0;
  for (let i = 0; i < PACED; i++) {
    await publishPurchase(i);
    await new Promise((r) => setTimeout(r, 20));
  }
  await waitFor(PACED);
  console.log(
    `webhooks paced (50/s): purchase-completed-to-webhook delay ${percentiles(delays)} over ${delays.length}`,
  );
} finally {
  await app.stop();
  receiver.close();
  const jsm = await jetstreamManager(nc);
  for (const context of ["notifications", "wallet", "fraud", "identity", "fx"]) {
    await jsm.streams.delete(streamName(context, namespace)).catch(() => undefined);
  }
  await nc.drain();
  await pool.query(`DROP SCHEMA ${schema} CASCADE`);
  await pool.end();
}
