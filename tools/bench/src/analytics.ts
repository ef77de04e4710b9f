// Benchmark: the analytics service.
//  1. events consumed into aggregates per second: BENCH_EVENTS wallet events (default 200,000) are published
//     first, then the service (its own process) starts and drains them;
//  2. GetSummary latency over a million events: 1,000,000 purchases of 1,000 users over a year, aggregated
//     with the service's projection code and written as cold days through the mover's upsert, then p50/p99 of
//     uncached summaries (every user's first, cache emptied between passes) and of cached ones;
//  3. CSV import rows per second: a BENCH_IMPORT_ROWS-row CSV (default 200,000) through the import runner and
//     publisher (as the CLI does), until the service has counted every row.
// Figures are printed, never asserted.
//
//   ./dev npm run bench:analytics -w @fintech/bench
import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { Counters, ScopeDays } from "@fintech/analytics";
import {
  addTransaction,
  createImportPublisher,
  migrationsDir,
  realTimer,
  runImport,
  staticRates,
  store,
  textChunks,
  userScope,
} from "@fintech/analytics";
import { createPool, migrate } from "@fintech/db";
import {
  CloudEventHeaders,
  ensureStream,
  eventsMigrationsDir,
  namespacedSubject,
  newEventId,
  streamName,
} from "@fintech/events";
import { formatAmount, parseAmount, parseRate } from "@fintech/money";
import { systemClock } from "@fintech/platform";
import { AnalyticsService } from "@fintech/proto/fintech/analytics/v1/analytics_pb.js";
import {
  TransactionEventSchema,
  TransactionStatus,
  TransactionType,
} from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import * as grpc from "@grpc/grpc-js";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, headers } from "@nats-io/transport-node";
import * as hdr from "hdr-histogram-js";
import { Redis } from "ioredis";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 200_000);
const IMPORT_ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 200_000);
const SEED_USERS = Number(process.env.BENCH_SEED_USERS ?? 1000);
const SEED_EVENTS_PER_USER = 1000;
const CACHED_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const DAY_MS = 86_400_000;
const ZONES = ["Asia/Kuala_Lumpur", "UTC", "America/New_York", "Europe/London", "Asia/Kolkata"];
const CATEGORIES = ["food_beverage", "shopping", "transport", "groceries", "entertainment", "bills"];
const PROVIDERS = ["visa", "mastercard", "paypal", "wire", ""];

const suffix = randomBytes(4).toString("hex");
const env = {
  ...process.env,
  DB_SCHEMA: `bench_analytics_${suffix}`,
  EVENTS_NAMESPACE: `bench${suffix}`,
  REDIS_PREFIX: `bench${suffix}:`,
  ANALYTICS_MOVER_INTERVAL_MS: "86400000",
  BENCH_TOKEN_USERS: String(SEED_USERS),
};
const databaseUrl = process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";
const natsUrl = process.env.NATS_URL || "nats://127.0.0.1:4222";
const redisUrl = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const namespace = env.EVENTS_NAMESPACE;
const schema = env.DB_SCHEMA;

let seed = 42;
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed / 2_147_483_648;
};
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;

const rows: string[] = [];
const say = (line: string) => {
  rows.push(line);
  console.log(line);
};

await migrate({ url: databaseUrl, schema, dirs: [eventsMigrationsDir, migrationsDir] });
const pool = createPool({ url: databaseUrl, schema, max: 4 });
const nc = await connect({ servers: natsUrl, name: "bench analytics" });
for (const context of ["wallet", "analytics", "fraud"]) await ensureStream(nc, { context, namespace });
const redis = new Redis(redisUrl);
const js = jetstream(nc);

/** A completed transaction event as the wallet would publish it. */
function walletEvent(userId: string, at: number) {
  const kind = random();
  const type =
    kind < 0.7 ? TransactionType.PURCHASE : kind < 0.85 ? TransactionType.TOP_UP : TransactionType.WITHDRAWAL;
  const currency = random() < 0.8 ? "MYR" : "USD";
  const minor = BigInt(100 + Math.floor(random() * 50_000));
  const base = currency === "MYR" ? minor : (minor * 47n) / 10n;
  const ts = timestampFromMs(at);
  return create(TransactionEventSchema, {
    transactionId: newEventId(at),
    userId,
    type,
    status: TransactionStatus.COMPLETED,
    amount: { currency, amount: formatAmount(minor, currency) },
    baseAmount: { currency: "MYR", amount: formatAmount(base, "MYR") },
    merchantCategory: type === TransactionType.PURCHASE ? pick(CATEGORIES) : "",
    provider: type === TransactionType.PURCHASE ? "" : pick(PROVIDERS),
    timezone: pick(ZONES),
    createdAt: ts,
    occurredAt: ts,
  });
}

async function inboxCount(consumer: string): Promise<number> {
  const { rows: r } = await pool.query<{ inbox: number; pending: number }>(
    `SELECT (SELECT count(*)::int FROM inbox WHERE consumer = $1) AS inbox,
            (SELECT count(*)::int FROM pending_batches) AS pending`,
    [consumer],
  );
  const row = r[0];
  return row === undefined || row.pending > 0 ? -1 : row.inbox;
}

async function until(consumer: string, count: number): Promise<number> {
  for (;;) {
    const n = await inboxCount(consumer);
    if (n >= count) return performance.now();
    await new Promise((r) => setTimeout(r, 50));
  }
}

// 1. Publish the wallet events, then start the service and time how fast it counts them.
const now = Date.now();
{
  const t0 = performance.now();
  const inFlight = new Set<Promise<unknown>>();
  for (let i = 0; i < EVENTS; i++) {
    const id = newEventId();
    const h = headers();
    h.set(CloudEventHeaders.id, id);
    h.set(CloudEventHeaders.type, "wallet.transaction.completed");
    h.set(CloudEventHeaders.source, "wallet");
    h.set(CloudEventHeaders.time, new Date().toISOString());
    const event = walletEvent(`live-${i % 5000}`, now - Math.floor(random() * 10 * DAY_MS));
    const p = js
      .publish(
        namespacedSubject("wallet.transaction.completed", namespace),
        toBinary(TransactionEventSchema, event),
        {
          msgID: id,
          headers: h,
        },
      )
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= 1024) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const s = (performance.now() - t0) / 1000;
  say(`published ${EVENTS} wallet events in ${s.toFixed(1)} s (${Math.round(EVENTS / s)}/s, setup only)`);
}

const server = fork(join(dirname(fileURLToPath(import.meta.url)), "analytics-server.ts"), {
  env,
  execArgv: ["--conditions=source", "--import", "tsx"],
  stdio: ["ignore", "ignore", "inherit", "ipc"],
});
const { port, tokens } = await new Promise<{ port: number; tokens: string[] }>((resolve, reject) => {
  server.once("message", (m) => resolve(m as { port: number; tokens: string[] }));
  server.once("exit", (code) => reject(new Error(`bench server exited with ${code}`)));
});

try {
  {
    const t0 = performance.now();
    const c0 = Math.max(0, await inboxCount("analytics-wallet"));
    const t1 = await until("analytics-wallet", EVENTS);
    const s = (t1 - t0) / 1000;
    say(
      `consumed ${EVENTS - c0} wallet events into aggregates in ${s.toFixed(1)} s: ${Math.round((EVENTS - c0) / s)} events/s (goal >= 10,000)`,
    );
  }

  // 2. A million events of history as cold days, as late events add them.
  {
    const t0 = performance.now();
    const start = now - 400 * DAY_MS;
    let buffer: Array<{ scope: string; day: string; counters: Counters }> = [];
    let written = 0;
    for (let u = 0; u < SEED_USERS; u++) {
      const days: ScopeDays = new Map();
      const userId = `bench-${u}`;
      for (let e = 0; e < SEED_EVENTS_PER_USER; e++) {
        const ev = walletEvent(userId, start + Math.floor(random() * 365 * DAY_MS));
        const currency = ev.amount?.currency ?? "MYR";
        const amount = parseAmount(ev.amount?.amount ?? "0", currency);
        const base = parseAmount(ev.baseAmount?.amount ?? "0", "MYR");
        addTransaction(days, ev, { currency, amount, base }, ev.merchantCategory, 1n);
      }
      for (const [day, counters] of days.get(userScope(userId)) ?? [])
        buffer.push({ scope: userScope(userId), day, counters });
      if (buffer.length >= 5000) {
        await store.addCold(pool, buffer);
        written += buffer.length;
        buffer = [];
      }
    }
    await store.addCold(pool, buffer);
    written += buffer.length;
    const s = (performance.now() - t0) / 1000;
    say(
      `seeded ${SEED_USERS * SEED_EVENTS_PER_USER} events (${SEED_USERS} users, ${written} cold user-days) in ${s.toFixed(1)} s`,
    );
  }

  // 3. GetSummary latency, uncached then cached.
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const request = Buffer.from(
    toBinary(AnalyticsService.method.getSummary.input, create(AnalyticsService.method.getSummary.input, {})),
  );
  const path = `/${AnalyticsService.typeName}/${AnalyticsService.method.getSummary.name}`;
  const call = (user: number) =>
    new Promise<number>((resolve, reject) => {
      const md = new grpc.Metadata();
      md.set("authorization", `Bearer ${tokens[user]}`);
      const t = process.hrtime.bigint();
      client.makeUnaryRequest(
        path,
        (b: Buffer) => b,
        (b: Buffer) => b,
        request,
        md,
        (err) => {
          if (err) reject(err);
          else resolve(Number((process.hrtime.bigint() - t) / 1000n));
        },
      );
    });
  const histogram = () =>
    hdr.build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: 60_000_000,
      numberOfSignificantValueDigits: 3,
    });
  const report = (name: string, h: hdr.Histogram, goal: string) =>
    say(
      `${name}: ${h.totalCount} calls, p50 ${(h.getValueAtPercentile(50) / 1000).toFixed(2)} ms, p99 ${(h.getValueAtPercentile(99) / 1000).toFixed(2)} ms (goal p99 ${goal})`,
    );
  // One call in flight: latency, not queueing behind other calls on the service's one event loop.
  const inFlight = 1;
  const uncached = histogram();
  for (let pass = 0; pass < 2; pass++) {
    // Empty the query cache, as a new event would for each user.
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(
        cursor,
        "MATCH",
        `${env.REDIS_PREFIX}an:{b*}:u:bench-*:q:*`,
        "COUNT",
        1000,
      );
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== "0");
    let next = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < SEED_USERS) uncached.recordValue(await call(next++));
      }),
    );
  }
  report("GetSummary uncached (1,000 events/user, ~340 cold days)", uncached, "< 50 ms");
  const cached = histogram();
  const hotUsers = Math.min(100, SEED_USERS);
  for (let u = 0; u < hotUsers; u++) await call(u);
  const stopAt = Date.now() + CACHED_SECONDS * 1000;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (Date.now() < stopAt) cached.recordValue(await call(Math.floor(random() * hotUsers)));
    }),
  );
  report("GetSummary cached", cached, "< 5 ms");
  client.close();

  // 4. CSV import, end to end.
  {
    const lines = ["timestamp,type,provider,amount,currency"];
    const types = ["deposit", "withdrawal", "purchase", "purchase", "refund", "transfer"];
    const t0ms = now - 2 * DAY_MS;
    for (let i = 0; i < IMPORT_ROWS; i++) {
      const cur = random() < 0.8 ? "" : "USD";
      lines.push(
        `${new Date(t0ms + i * 500).toISOString()},${pick(types)},${pick(PROVIDERS) || "visa"},${(1 + Math.floor(random() * 50_000)) / 100},${cur}`,
      );
    }
    const csv = lines.join("\n");
    const t0 = performance.now();
    const result = await runImport(
      textChunks(csv, 1 << 20),
      Buffer.byteLength(csv),
      {
        fileSha256: randomBytes(32).toString("hex"),
        userId: "bench-import",
        timezone: "UTC",
        baseCurrency: "MYR",
        replay: false,
        speed: 1,
      },
      {
        publisher: createImportPublisher({
          nc,
          namespace,
          importId: "bench",
          clock: systemClock,
        }),
        rates: staticRates([{ base: "USD", quote: "MYR", rate: parseRate("4.70") }], "MYR"),
        timer: realTimer,
      },
    );
    const published = (performance.now() - t0) / 1000;
    const t1 = await until("analytics-imports", result.rowsImported);
    const total = (t1 - t0) / 1000;
    say(
      `CSV import of ${IMPORT_ROWS} rows: read and published in ${published.toFixed(1)} s (${Math.round(IMPORT_ROWS / published)} rows/s), counted in ${total.toFixed(1)} s end to end: ${Math.round(IMPORT_ROWS / total)} rows/s (goal >= 20,000)`,
    );
  }
} finally {
  server.kill("SIGTERM");
  await new Promise((r) => server.once("exit", r));
  const jsm = await jetstreamManager(nc);
  for (const context of ["wallet", "analytics", "fraud"])
    await jsm.streams.delete(streamName(context, namespace));
  await nc.drain();
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${env.REDIS_PREFIX}*`, "COUNT", 1000);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== "0");
  await redis.quit();
  await pool.query(`DROP SCHEMA ${schema} CASCADE`);
  await pool.end();
}

console.log(`\nanalytics benchmark (${new Date().toISOString()}):\n${rows.map((r) => `  ${r}`).join("\n")}`);
