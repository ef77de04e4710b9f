import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import {
  TransactionEventSchema,
  TransactionStatus,
  TransactionType,
} from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import pino from "pino";
import { describe, expect } from "vitest";
import type { AnalyticsEvent } from "./aggregator.js";
import { createAggregator } from "./aggregator.js";
import { userScope } from "./counters.js";
import type { HotStore } from "./hot-store.js";
import { createHotStore } from "./hot-store.js";
import { createMover } from "./mover.js";
import type { AnalyticsHarness } from "./test/harness.js";
import { analyticsTest } from "./test/harness.js";

const test = analyticsTest({ ANALYTICS_CACHE_TTL_SECONDS: "0" });
const DAY_MS = 86_400_000;

/** A completed purchase of `amount` minor MYR by `userId` at `at`, as the aggregator receives it. */
function purchase(userId: string, at: number, amount: bigint, id = randomUUID()): AnalyticsEvent {
  const ts = timestampFromMs(at);
  return {
    kind: "transaction",
    id,
    sign: 1n,
    message: create(TransactionEventSchema, {
      transactionId: id,
      userId,
      type: TransactionType.PURCHASE,
      status: TransactionStatus.COMPLETED,
      merchantCategory: "groceries",
      timezone: "UTC",
      createdAt: ts,
      occurredAt: ts,
    }),
    amounts: { currency: "MYR", amount, base: amount },
    eventTime: at,
  };
}

async function totals(h: AnalyticsHarness, userId: string) {
  const s = await h.as(userId).getSummary({});
  return { count: s.transactionCount, spent: s.totalSpent, active: s.activeDays };
}

/** A hot store whose chosen operation fails (after doing its work, when `after`), like a process killed there. */
function crashing(hot: HotStore, op: "deleteFields" | "applyBatch", after = false): HotStore {
  return {
    ...hot,
    [op]: async (...args: unknown[]) => {
      if (after) await (hot[op] as (...a: unknown[]) => Promise<void>)(...args);
      throw new Error(`killed ${after ? "after" : "before"} ${op}`);
    },
  };
}

describe("hot and cold storage", () => {
  test("a mover killed between upsert and delete, then restarted, leaves totals unchanged", async ({
    analytics,
    redis,
  }) => {
    const hot = createHotStore({ redis: redis.client, prefix: redis.prefix });
    const user = `u-${randomUUID()}`;
    const now = Date.UTC(2027, 5, 30, 12);
    const events = Array.from({ length: 20 }, (_, i) =>
      purchase(user, now - i * DAY_MS, BigInt(100 * (i + 1))),
    );
    await analytics.app.aggregator.record("test-hot-cold", events);
    const before = await totals(analytics, user);
    expect(before).toEqual({ count: 20n, spent: "210.00", active: 20n });

    const killed = createMover({
      pool: analytics.pool,
      hot: crashing(hot, "deleteFields"),
      aggregator: analytics.app.aggregator,
      logger: pino({ level: "silent" }),
      hotDays: 7,
    });
    await expect(killed.runOnce()).rejects.toThrow("killed before deleteFields");
    // Upserted and confirmed in Postgres, still in Redis: counted once all the same.
    const merged = await analytics.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM day_aggregates WHERE scope = $1 AND hot_merged",
      [userScope(user)],
    );
    expect(merged.rows[0]?.n).toBeGreaterThan(0);
    expect((await hot.readDays(userScope(user)))?.size).toBe(20);
    expect(await totals(analytics, user)).toEqual(before);

    const result = await analytics.app.mover.runOnce();
    expect(result.moved).toBeGreaterThanOrEqual(13);
    expect((await hot.readDays(userScope(user)))?.size).toBe(7);
    expect(await totals(analytics, user)).toEqual(before);
    // And again: a second pass over moved days changes nothing.
    await analytics.app.mover.runOnce();
    expect(await totals(analytics, user)).toEqual(before);
  });

  test("two replicas' movers at once move each day once", async ({ analytics, redis }) => {
    const hot = createHotStore({ redis: redis.client, prefix: redis.prefix });
    const user = `u-${randomUUID()}`;
    // Later than every other test's events, so that this pass moves this user's older days.
    const now = Date.UTC(2028, 5, 30, 12);
    const events = Array.from({ length: 20 }, (_, i) =>
      purchase(user, now - i * DAY_MS, BigInt(100 * (i + 1))),
    );
    await analytics.app.aggregator.record("test-two-movers", events);
    const before = await totals(analytics, user);
    const hotRows = async () =>
      (await analytics.pool.query<{ n: number }>("SELECT count(*)::int4 AS n FROM hot_aggregates")).rows[0]
        ?.n ?? 0;
    const rowsBefore = await hotRows();
    const other = createMover({
      pool: analytics.pool,
      hot,
      aggregator: analytics.app.aggregator,
      logger: pino({ level: "silent" }),
      hotDays: 7,
    });
    const passes = await Promise.all([
      analytics.app.mover.runOnce(),
      other.runOnce(),
      analytics.app.mover.runOnce(),
      other.runOnce(),
    ]);
    // Each (scope, day) moved is reported by one pass only: together they moved what left hot_aggregates.
    const moved = passes.reduce((n, p) => n + p.moved, 0);
    expect(moved).toBeGreaterThanOrEqual(13);
    expect(moved).toBe(rowsBefore - (await hotRows()));
    expect((await hot.readDays(userScope(user)))?.size).toBe(7);
    expect(await totals(analytics, user)).toEqual(before);
  });

  test("a crash between the Postgres commit and the Redis increments loses nothing and counts nothing twice", async ({
    analytics,
    redis,
  }) => {
    const hot = createHotStore({ redis: redis.client, prefix: redis.prefix });
    const base = { pool: analytics.pool, clock: analytics.clock, baseCurrency: "MYR" };
    const user = `u-${randomUUID()}`;
    const at = Date.UTC(2027, 5, 30, 10);

    // Killed before the increments: the inbox rows and the pending batch are committed.
    const before = createAggregator({ ...base, hot: crashing(hot, "applyBatch") });
    const first = [purchase(user, at, 1000n), purchase(user, at, 2000n)];
    await expect(before.record("test-crash", first)).rejects.toThrow("killed before applyBatch");
    // Redelivered to a healthy process: the inbox has them, so nothing is added now...
    expect(await analytics.app.aggregator.record("test-crash", first)).toBe(0);
    // ...and the pending batch is applied by recovery.
    expect(await analytics.app.aggregator.recoverPending(0)).toBe(1);
    expect(await totals(analytics, user)).toEqual({ count: 2n, spent: "30.00", active: 1n });

    // Killed after the increments, before the pending batch is deleted: applying it again adds nothing.
    const after = createAggregator({ ...base, hot: crashing(hot, "applyBatch", true) });
    await expect(after.record("test-crash", [purchase(user, at, 500n)])).rejects.toThrow(
      "killed after applyBatch",
    );
    expect(await analytics.app.aggregator.recoverPending(0)).toBe(1);
    expect(await analytics.app.aggregator.recoverPending(0)).toBe(0);
    expect(await totals(analytics, user)).toEqual({ count: 3n, spent: "35.00", active: 1n });
  });

  test("an event redelivered after its day moved to Postgres is counted once", async ({ analytics }) => {
    const user = `u-${randomUUID()}`;
    const old = Date.UTC(2027, 5, 28, 9);
    const event = purchase(user, old, 700n);
    // Push the event-time clock a month ahead so the day is moved.
    await analytics.app.aggregator.record("test-redelivery", [
      event,
      purchase(`u-${randomUUID()}`, old + 30 * DAY_MS, 1n),
    ]);
    const moved = await analytics.app.mover.runOnce();
    expect(moved.coldBefore !== undefined && moved.coldBefore > "2027-06-28").toBe(true);
    expect(await analytics.app.aggregator.record("test-redelivery", [event])).toBe(0);
    // A late event for that cold day goes to Postgres directly.
    await analytics.app.aggregator.record("test-redelivery", [purchase(user, old + 3600_000, 300n)]);
    expect(await totals(analytics, user)).toEqual({ count: 2n, spent: "10.00", active: 1n });
    const cold = await analytics.pool.query<{ counters: Record<string, string> }>(
      "SELECT counters FROM day_aggregates WHERE scope = $1 AND day = '2027-06-28'",
      [userScope(user)],
    );
    expect(cold.rows[0]?.counters["purchase|groceries|MYR|a"]).toBe("1000");
  });
});
