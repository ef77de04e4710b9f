// The server half of the fraud benchmark, in its own process so the load generator does not share its event
// loop: the real fraud service (Postgres, Redis, NATS, outbox relay, feature consumer, the wallet's service token
// verified as in production) with BENCH_USERS users' features seeded through the consumer's own path
// (observe + FeatureStore.record), and, on the same bootstrap, a do-nothing PingService. Sends
// { fraudPort, pingPort, token } over IPC, then serves until SIGTERM.
import { randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { rememberBearer } from "@fintech/auth";
import { createPool, migrate, withTransaction } from "@fintech/db";
import { ensureStream, eventsMigrationsDir } from "@fintech/events";
import { build, longestWindowMs, migrationsDir, observe, parseFraudConfig } from "@fintech/fraud";
import { createLogger, createServer, systemClock } from "@fintech/platform";
import { PingService } from "@fintech/proto/fintech/platform/v1/bench_pb.js";
import {
  TransactionEventSchema,
  TransactionStatus,
  TransactionType,
} from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import { createTestTokens, testService } from "@fintech/testing/tokens";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { Redis } from "ioredis";
import { benchUser, SEED_USERS } from "./fraud-workload.js";

const suffix = randomBytes(4).toString("hex");
const config = parseFraudConfig({
  ...process.env,
  DB_SCHEMA: `bench_fraud_${suffix}`,
  EVENTS_NAMESPACE: `bench${suffix}`,
  REDIS_PREFIX: `bench:fraud:${suffix}:`,
  FRAUD_PRUNE_INTERVAL_MS: "0",
});
// Logging stays on at info, as in production: its cost is part of what is measured.
const logger = createLogger({ name: "bench", level: "info" });

await migrate({
  url: config.DATABASE_URL,
  schema: config.DB_SCHEMA,
  dirs: [eventsMigrationsDir, migrationsDir],
});
const pool = createPool({
  url: config.DATABASE_URL,
  schema: config.DB_SCHEMA,
  max: config.DB_POOL_MAX,
  applicationName: `bench-fraud-${suffix}`,
});
const nc = await connect({ servers: config.NATS_URL });
for (const context of ["fraud", "wallet"])
  await ensureStream(nc, { context, namespace: config.EVENTS_NAMESPACE });
const redis = new Redis(config.REDIS_URL, {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  lazyConnect: true,
});
await redis.connect();

// The wallet's service token, signed and verified (Ed25519) as in production, with a JWKS held in memory.
const tokens = await createTestTokens({ kid: "bench" });
const token = await tokens.token(testService("wallet"));

const fraud = build(
  { ...config, METRICS_PORT: 0 },
  {
    pool,
    nc,
    redis,
    logger,
    clock: systemClock,
    // As connectIdentity builds it in production: verified tokens remembered briefly.
    authenticator: rememberBearer(tokens.authenticator),
  },
);

// Realistic feature state: every user has purchases on 3 of the last 30 days (their average) and 0-8 in the
// last hour (their velocity windows), recorded exactly as the consumer records wallet.transaction.created.
const seeded = performance.now();
const retention = longestWindowMs((await fraud.service.getRules()).rules);
const now = Date.now();
const DAY = 86_400_000;
let records = 0;
async function seedUsers(from: number, to: number): Promise<void> {
  await withTransaction(pool, async (tx) => {
    for (let u = from; u < to; u++) {
      const user = benchUser(u);
      const times = [
        ...[3, 9, 21].map((d) => now - d * DAY - (u % 1000) * 1000),
        ...Array.from({ length: u % 9 }, (_, k) => now - (k + 1) * 6 * 60_000),
      ];
      for (const [k, at] of times.entries()) {
        const amount = `${20 + ((u * 7 + k * 13) % 180)}.00`;
        const event = create(TransactionEventSchema, {
          transactionId: randomUUID(),
          userId: user.id,
          type: TransactionType.PURCHASE,
          status: TransactionStatus.COMPLETED,
          amount: { currency: "MYR", amount },
          baseAmount: { currency: "MYR", amount },
          merchantName: `merchant ${k % 5}`,
          timezone: user.timezone,
          createdAt: timestampFromDate(new Date(at)),
          occurredAt: timestampFromDate(new Date(at)),
        });
        const t = observe(event, new Date(at), config.FRAUD_BASE_CURRENCY);
        if (t) await fraud.features.record(tx, [t], retention);
        records++;
      }
    }
  });
}
const BATCH = 250;
const batches = Array.from({ length: Math.ceil(SEED_USERS / BATCH) }, (_, i) => i * BATCH);
await Promise.all(
  Array.from({ length: 8 }, async () => {
    for (let from = batches.shift(); from !== undefined; from = batches.shift()) {
      await seedUsers(from, Math.min(SEED_USERS, from + BATCH));
    }
  }),
);
await pool.query("ANALYZE");
logger.info(
  { users: SEED_USERS, records, seconds: Math.round((performance.now() - seeded) / 100) / 10 },
  "features seeded",
);

const fraudAt = await fraud.start({ port: 0, host: "127.0.0.1" });
const ping = createServer({
  name: "ping",
  logger,
  routes: (router) => router.service(PingService, { ping: (req) => ({ payload: req.payload }) }),
});
const pingAt = await ping.listen({ port: 0, host: "127.0.0.1" });

// CPU seconds used so far by this process, and per Postgres backend of its pool (Linux /proc; none elsewhere), so
// the load generator can report CPU per call, which other load on the machine distorts less than latency.
async function cpuSeconds(): Promise<{ node: number; postgres: Record<string, number> }> {
  const { user, system } = process.cpuUsage();
  const { rows } = await pool.query<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE application_name = $1",
    [`bench-fraud-${suffix}`],
  );
  const postgres: Record<string, number> = {};
  for (const { pid } of rows) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
      postgres[pid] = (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / 100; // utime + stime, in ticks
    } catch {
      // Not Linux, or the backend just ended.
    }
  }
  return { node: (user + system) / 1e6, postgres };
}
process.on("message", (m) => {
  if (m !== "cpu") return;
  cpuSeconds().then(
    (cpu) => process.send?.({ cpu }),
    (err: unknown) => logger.error({ err }, "cpu figures failed"),
  );
});

process.send?.({ fraudPort: fraudAt.port, pingPort: pingAt.port, token });

process.on("SIGTERM", async () => {
  await Promise.all([fraud.stop(), ping.close()]);
  try {
    const jsm = await jetstreamManager(nc);
    for (const context of ["FRAUD", "WALLET"]) {
      await jsm.streams.delete(`${config.EVENTS_NAMESPACE.toUpperCase()}_${context}`);
    }
    await nc.drain();
    await pool.query(`DROP SCHEMA ${config.DB_SCHEMA} CASCADE`);
    await pool.end();
    redis.disconnect();
    const cleaner = new Redis(config.REDIS_URL);
    let cursor = "0";
    do {
      const [next, keys] = await cleaner.scan(cursor, "MATCH", `${config.REDIS_PREFIX}*`, "COUNT", 1000);
      if (keys.length > 0) await cleaner.unlink(...keys);
      cursor = next;
    } while (cursor !== "0");
    cleaner.disconnect();
  } finally {
    process.exit(0);
  }
});
