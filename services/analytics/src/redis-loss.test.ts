import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  TransactionEventSchema,
  TransactionStatus,
  TransactionType,
} from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import { startOwnRedis, waitFor } from "@fintech/testing";
import { Redis } from "ioredis";
import pino from "pino";
import { afterAll, describe, expect } from "vitest";
import type { AnalyticsEvent } from "./aggregator.js";
import { analyticsMetrics } from "./analytics-metrics.js";
import { userScope } from "./counters.js";
import type { HotStore } from "./hot-store.js";
import { createHotStore } from "./hot-store.js";
import { createMover } from "./mover.js";
import type { AnalyticsHarness } from "./test/harness.js";
import { analyticsTest } from "./test/harness.js";

// This file's service runs on a redis-server of its own (no persistence), which the tests empty and restart.
const own = await startOwnRedis();
afterAll(() => own.cleanup());

const logLines: string[] = [];
const logger = pino({ level: "info" }, { write: (line: string) => logLines.push(line) });
// The query cache stays on: no answer cached before a loss may be served after the rebuild.
const test = analyticsTest({ ANALYTICS_HOT_CHECK_INTERVAL_MS: "250" }, { redisUrl: own.url, logger });

const WALLET = "analytics-wallet";
const DAY_MS = 86_400_000;
const USERS = 20;
/** Within the hot window of the harness' clock (2030-01-01). */
const DAYS = ["2029-12-29", "2029-12-30", "2029-12-31"] as const;

async function publishPurchase(
  h: AnalyticsHarness,
  userId: string,
  day: string,
  amount: string,
  id = randomUUID(),
): Promise<void> {
  const at = timestampFromMs(Date.parse(`${day}T06:00:00Z`));
  await h.publishTransaction(
    "wallet.transaction.completed",
    {
      transactionId: id,
      userId,
      type: TransactionType.PURCHASE,
      status: TransactionStatus.COMPLETED,
      timezone: "UTC",
      provider: "card",
      merchantCategory: "groceries",
      amount: { currency: "MYR", amount },
      baseAmount: { currency: "MYR", amount },
      createdAt: at,
      occurredAt: at,
    },
    id,
  );
}

/** What users and admins see: every user's summary and spending per day, and the platform's statistics. */
async function everything(h: AnalyticsHarness, users: string[]) {
  const perUser = await Promise.all(
    users.map(async (u) => {
      const client = h.as(u);
      return {
        summary: await client.getSummary({}),
        spending: await client.getSpending({ startDate: DAYS[0], endDate: DAYS[2] }),
        series: await client.getTimeSeries({ granularity: "day", startDate: DAYS[0], endDate: DAYS[2] }),
      };
    }),
  );
  const stats = await h.as("admin", ["admin"]).getStats({ fromDate: DAYS[0], toDate: DAYS[2] });
  return { perUser, stats };
}

async function losses(): Promise<number> {
  return (await analyticsMetrics().redisDataLoss.get()).values[0]?.value ?? 0;
}

function lossLogged(): boolean {
  return logLines.some((line) => {
    const entry = JSON.parse(line) as { level: number; msg: string };
    return (
      entry.level === 40 && entry.msg === "Redis lost the analytics hot store; rebuilding it from Postgres"
    );
  });
}

/** `count` users of a test's own, each with a purchase on each of DAYS: user i spends i+1, 2.50 and 10.00. */
async function seedUsers(h: AnalyticsHarness, count = USERS): Promise<string[]> {
  const users = Array.from({ length: count }, () => randomUUID());
  const inbox = await h.inbox(WALLET);
  for (const [i, u] of users.entries()) {
    await publishPurchase(h, u, DAYS[0] ?? "", `${i + 1}.00`);
    await publishPurchase(h, u, DAYS[1] ?? "", "2.50");
    await publishPurchase(h, u, DAYS[2] ?? "", "10.00");
  }
  await h.settled(WALLET, inbox + users.length * 3);
  return users;
}

/** Every bucket marked with the current generation: the rebuild is done. */
async function rebuilt(h: AnalyticsHarness, hot: HotStore, after: bigint): Promise<void> {
  await waitFor(
    async () => {
      const { rows } = await h.pool.query<{ generation: bigint }>("SELECT generation FROM hot_state");
      const generation = rows[0]?.generation ?? 0n;
      return generation > after && (await hot.markers()).every((m) => m === String(generation));
    },
    { timeoutMs: 30_000 },
  );
}

async function generation(h: AnalyticsHarness): Promise<bigint> {
  const { rows } = await h.pool.query<{ generation: bigint }>("SELECT generation FROM hot_state");
  return rows[0]?.generation ?? 0n;
}

describe("analytics when Redis loses its data", () => {
  test("a FLUSHALL is detected, logged and counted once, and every user's numbers are rebuilt", async ({
    analytics,
    redis,
  }) => {
    const client = testClient();
    const hot = createHotStore({ redis: client, prefix: redis.prefix });
    try {
      const users = await seedUsers(analytics);
      const before = await everything(analytics, users);
      expect(before.perUser[4]?.summary.totalSpent).toBe("17.50");
      expect(before.perUser[4]?.summary.transactionCount).toBe(3n);
      expect(before.stats.count).toBe(BigInt(USERS * 3));
      const lossesBefore = await losses();
      const gen = await generation(analytics);

      await own.flushAll();

      // Right while Redis is empty (answers from Postgres) and after the rebuild (from Redis again).
      expect(await everything(analytics, users)).toEqual(before);
      await rebuilt(analytics, hot, gen);
      expect(await losses()).toBe(lossesBefore + 1);
      expect(lossLogged()).toBe(true);
      expect((await hot.readDays(userScope(users[4] ?? "")))?.size).toBe(3);
      expect(await everything(analytics, users)).toEqual(before);

      // The cache works under the new generation: a new event changes the answer at once.
      const inbox = await analytics.inbox(WALLET);
      await publishPurchase(analytics, users[4] ?? "", DAYS[2] ?? "", "0.25");
      await analytics.settled(WALLET, inbox + 1);
      expect((await analytics.as(users[4] ?? "").getSummary({})).totalSpent).toBe("17.75");
    } finally {
      client.disconnect();
    }
  });

  test("events arriving while Redis is empty are neither lost nor counted twice", async ({
    analytics,
    redis,
  }) => {
    const client = testClient();
    const hot = createHotStore({ redis: client, prefix: redis.prefix });
    try {
      const users = await seedUsers(analytics);
      const before = await everything(analytics, users);
      const gen = await generation(analytics);
      const inbox = await analytics.inbox(WALLET);
      // No rebuild until the events below are in: they arrive while every bucket is unmarked.
      await analytics.app.guard.stop();
      await own.flushAll();
      const early = randomUUID();
      for (const u of users.slice(0, 10)) await publishPurchase(analytics, u, DAYS[1] ?? "", "5.00");
      await publishPurchase(analytics, users[0] ?? "", DAYS[2] ?? "", "1.00", early);
      await waitFor(async () => (await analytics.inbox(WALLET)) >= inbox + 11, { timeoutMs: 15_000 });
      // The same event delivered again (a publisher retry) counts nothing.
      await publishPurchase(analytics, users[0] ?? "", DAYS[2] ?? "", "1.00", early);

      const expectSpent = (all: Awaited<ReturnType<typeof everything>>) => {
        users.forEach((u, i) => {
          const was = before.perUser[i]?.summary.totalSpent ?? "";
          const extra = i === 0 ? 6 : i < 10 ? 5 : 0;
          expect(all.perUser[i]?.summary.totalSpent, u).toBe((Number(was) + extra).toFixed(2));
        });
        expect(all.stats.count).toBe(before.stats.count + 11n);
      };
      expectSpent(await everything(analytics, users));

      analytics.app.guard.start();
      await rebuilt(analytics, hot, gen);
      await analytics.settled(WALLET, inbox + 11);
      const after = await everything(analytics, users);
      expectSpent(after);
      // Redis alone holds what Postgres holds.
      const { rows } = await analytics.pool.query<{ day: string; counters: Record<string, string> }>(
        "SELECT day::text AS day, counters FROM hot_aggregates WHERE scope = $1 AND NOT moved",
        [userScope(users[0] ?? "")],
      );
      const inRedis = await hot.readDays(userScope(users[0] ?? ""));
      expect(rows).toHaveLength(3);
      for (const r of rows) {
        expect(Object.fromEntries([...(inRedis?.get(r.day) ?? [])].map(([k, v]) => [k, String(v)]))).toEqual(
          r.counters,
        );
      }
    } finally {
      client.disconnect();
    }
  });

  test("a Redis restarted without persistence is rebuilt after the client reconnects", async ({
    analytics,
    redis,
  }) => {
    const client = testClient();
    const hot = createHotStore({ redis: client, prefix: redis.prefix });
    try {
      const users = await seedUsers(analytics);
      const before = await everything(analytics, users);
      const gen = await generation(analytics);
      const lossesBefore = await losses();
      await own.kill();
      await own.start();
      await rebuilt(analytics, hot, gen);
      expect(await losses()).toBe(lossesBefore + 1);
      expect(await everything(analytics, users)).toEqual(before);
    } finally {
      client.disconnect();
    }
  });

  test("a Redis restored from an old snapshot serves no stale answer and is rebuilt", async ({
    analytics,
    redis,
  }) => {
    const client = testClient();
    const hot = createHotStore({ redis: client, prefix: redis.prefix });
    try {
      const user = randomUUID();
      const inbox = await analytics.inbox(WALLET);
      await publishPurchase(analytics, user, DAYS[2] ?? "", "10.00");
      await analytics.settled(WALLET, inbox + 1);
      // Cached now, under this generation.
      expect((await analytics.as(user).getSummary({})).totalSpent).toBe("10.00");
      const old = await dumpKeys(client, redis.prefix);

      await own.flushAll();
      await rebuilt(analytics, hot, await generation(analytics));
      await publishPurchase(analytics, user, DAYS[2] ?? "", "2.00");
      await analytics.settled(WALLET, inbox + 2);
      expect((await analytics.as(user).getSummary({})).totalSpent).toBe("12.00");

      // Like a failover to a replica that is far behind: the old counters, versions and cached answers are
      // back, with the old generation's markers.
      const gen = await generation(analytics);
      const lossesBefore = await losses();
      await own.flushAll();
      await restoreKeys(client, old);
      expect((await analytics.as(user).getSummary({})).totalSpent).toBe("12.00");
      await rebuilt(analytics, hot, gen);
      expect(await losses()).toBe(lossesBefore + 1);
      expect((await analytics.as(user).getSummary({})).totalSpent).toBe("12.00");
    } finally {
      client.disconnect();
    }
  });

  test("Redis emptied again and again while events stream in: every event counted once", async ({
    analytics,
    redis,
  }) => {
    const client = testClient();
    const hot = createHotStore({ redis: client, prefix: redis.prefix });
    try {
      const streamers = Array.from({ length: 5 }, () => randomUUID());
      const lossesBefore = await losses();
      let flushes = 0;
      const inbox = await analytics.inbox(WALLET);
      const publishing = (async () => {
        for (let i = 0; i < 150; i++) {
          await publishPurchase(analytics, streamers[i % 5] ?? "", DAYS[i % 3] ?? "", "1.00");
          // Empty Redis every 40 events, whatever the guard is doing.
          if (i % 40 === 20) {
            await own.flushAll();
            flushes++;
          }
        }
      })();
      await publishing;
      await analytics.settled(WALLET, inbox + 150);
      await waitFor(async () => (await losses()) > lossesBefore && whole(await hot.markers()), {
        timeoutMs: 30_000,
      });
      for (const u of streamers) {
        const s = await analytics.as(u).getSummary({});
        expect({ count: s.transactionCount, spent: s.totalSpent }).toEqual({ count: 30n, spent: "30.00" });
        const { rows } = await analytics.pool.query<{ day: string; counters: Record<string, string> }>(
          "SELECT day::text AS day, counters FROM hot_aggregates WHERE scope = $1 AND NOT moved",
          [userScope(u)],
        );
        const inRedis = await hot.readDays(userScope(u));
        for (const r of rows) {
          const fields = Object.fromEntries([...(inRedis?.get(r.day) ?? [])].map(([k, v]) => [k, String(v)]));
          expect(fields).toEqual(r.counters);
        }
      }
      expect(flushes).toBe(4);
    } finally {
      client.disconnect();
    }
  });

  test("the mover neither loses nor double counts a day when Redis is emptied mid-move", async ({
    analytics,
    redis,
  }) => {
    const client = testClient();
    const hot = createHotStore({ redis: client, prefix: redis.prefix });
    try {
      const user = randomUUID();
      const end = Date.UTC(2030, 0, 1, 9);
      const events: AnalyticsEvent[] = Array.from({ length: 20 }, (_, i) => {
        const id = randomUUID();
        const at = timestampFromMs(end - i * DAY_MS);
        return {
          kind: "transaction",
          id,
          sign: 1n,
          message: create(TransactionEventSchema, {
            transactionId: id,
            userId: user,
            type: TransactionType.PURCHASE,
            status: TransactionStatus.COMPLETED,
            merchantCategory: "groceries",
            timezone: "UTC",
            createdAt: at,
            occurredAt: at,
          }),
          amounts: { currency: "MYR", amount: BigInt(100 * (i + 1)), base: BigInt(100 * (i + 1)) },
          eventTime: end - i * DAY_MS,
        };
      });
      await analytics.app.aggregator.record("test-mover", events);
      const summary = async () => {
        const s = await analytics.as(user).getSummary({});
        return { count: s.transactionCount, spent: s.totalSpent, active: s.activeDays };
      };
      const before = await summary();
      expect(before).toEqual({ count: 20n, spent: "210.00", active: 20n });
      const gen = await generation(analytics);

      // Redis is emptied after the days are moved in Postgres and before their Redis fields are deleted.
      const flushing: HotStore = {
        ...hot,
        fieldsOf: async (pairs) => {
          await own.flushAll();
          return hot.fieldsOf(pairs);
        },
      };
      const mover = createMover({
        pool: analytics.pool,
        hot: flushing,
        aggregator: analytics.app.aggregator,
        logger: pino({ level: "silent" }),
        hotDays: 7,
      });
      const moved = await mover.runOnce();
      expect(moved.coldBefore).toBe("2029-12-26");
      expect(await summary()).toEqual(before);
      await rebuilt(analytics, hot, gen);
      expect(await summary()).toEqual(before);
      // Each moved day is in Postgres exactly once, and only the hot days are back in Redis.
      const { rows } = await analytics.pool.query<{ a: string }>(
        `SELECT sum((counters->>'purchase|groceries|MYR|a')::bigint)::text AS a FROM day_aggregates
          WHERE scope = $1 AND hot_merged`,
        [userScope(user)],
      );
      // Days 2029-12-13 .. 2029-12-25: events 7..19, amounts 800..2000.
      expect(rows[0]?.a).toBe(String(((800 + 2000) * 13) / 2));
      expect((await hot.readDays(userScope(user)))?.size).toBe(7);
      // A second pass moves nothing twice.
      await analytics.app.mover.runOnce();
      expect(await summary()).toEqual(before);
    } finally {
      client.disconnect();
    }
  });
});

/** Every bucket marked, with one generation. */
function whole(markers: Array<string | null>): boolean {
  return markers[0] != null && markers.every((m) => m === markers[0]);
}

/** A client of this file's own Redis, which the tests restart: reconnecting is ioredis' job. */
function testClient(): Redis {
  const client = new Redis(own.url);
  client.on("error", () => undefined);
  return client;
}

/** Every key under `prefix` with its value and time to live (a snapshot of the hot store). */
async function dumpKeys(client: Redis, prefix: string) {
  const out: Array<{ key: string; ttl: number; value: Buffer }> = [];
  let cursor = "0";
  do {
    const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
    for (const key of keys) {
      const value = await client.dumpBuffer(key);
      if (value !== null) out.push({ key, ttl: Math.max(0, await client.pttl(key)), value });
    }
    cursor = next;
  } while (cursor !== "0");
  return out;
}

async function restoreKeys(client: Redis, keys: Array<{ key: string; ttl: number; value: Buffer }>) {
  for (const { key, ttl, value } of keys) await client.restore(key, ttl, value, "REPLACE");
}
