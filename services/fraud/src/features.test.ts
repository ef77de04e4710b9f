import { randomUUID } from "node:crypto";
import { describe, expect } from "vitest";
import {
  fraudTest,
  minutesBefore,
  publishWalletEvent,
  purchase,
  rulesOf,
  scoreRequest,
} from "./test/harness.js";

// Every rule at and around its boundary, with features built the production way: wallet events through the
// durable consumer into Redis and the fraud schema.
const test = fraudTest();
const T = new Date("2026-03-02T03:00:00Z"); // 11:00 in Kuala Lumpur

/** Purchases by `user` the given minutes before T, each of another amount (so none is a duplicate). */
const spree = (user: string, minutes: number[]) =>
  minutes.map((m, i) => purchase(user, minutesBefore(T, m), `${11 + i}.00`));

describe("velocity from wallet events", () => {
  test("HIGH_VELOCITY fires on the 6th transaction in 10 minutes; one exactly 10 minutes old is outside", async ({
    fraud,
  }) => {
    const busy = randomUUID();
    await fraud.feed(...spree(busy, [9, 7, 5, 3, 1]));
    const res = await fraud.score(scoreRequest(busy, T));
    expect(res.flags).toEqual([
      expect.objectContaining({
        rule: "HIGH_VELOCITY",
        points: 20,
        values: { count: "6", threshold: "5", window: "10m" },
      }),
    ]);
    expect(res.score).toBe(20);

    const edge = randomUUID();
    await fraud.feed(...spree(edge, [10, 7, 5, 3, 1]));
    expect(rulesOf(await fraud.score(scoreRequest(edge, T)))).toEqual([]);
  });

  test("SUSPICIOUS_VELOCITY fires on the 11th in an hour; one exactly an hour old is outside", async ({
    fraud,
  }) => {
    const spread = [59, 54, 48, 42, 36, 30, 24, 18, 12, 11]; // never 6 in 10 minutes
    const steady = randomUUID();
    await fraud.feed(...spree(steady, spread));
    const res = await fraud.score(scoreRequest(steady, T));
    expect(res.flags).toEqual([
      expect.objectContaining({
        rule: "SUSPICIOUS_VELOCITY",
        values: { count: "11", threshold: "10", window: "1h" },
      }),
    ]);

    const edge = randomUUID();
    await fraud.feed(...spree(edge, [60, ...spread.slice(1)]));
    expect(rulesOf(await fraud.score(scoreRequest(edge, T)))).toEqual([]);
  });

  test("a redelivered event, or the same transaction under another event id, counts once", async ({
    fraud,
  }) => {
    const user = randomUUID();
    await fraud.feed(...spree(user, [9, 7, 5, 3]));
    const again = purchase(user, minutesBefore(T, 2), "99.00");
    const eventId = randomUUID();
    for (let i = 0; i < 3; i++) await publishWalletEvent(fraud.nc, fraud.namespace, again, { eventId });
    await publishWalletEvent(fraud.nc, fraud.namespace, again); // a new event id, the same transaction
    // The consumer handles in stream order: once this one is in, every delivery before it has been handled.
    await fraud.feed(purchase(randomUUID(), T));

    const res = await fraud.score(scoreRequest(user, T));
    expect(res.flags[0]?.values).toMatchObject({ count: "6" }); // 5 distinct transactions + this one
    const { rows } = await fraud.pg.pool.query<{ tx_count: number }>(
      "SELECT tx_count FROM user_daily_totals WHERE user_id = $1",
      [user],
    );
    expect(rows).toEqual([{ tx_count: 5 }]);
    expect(await fraud.redis.zcard(`${fraud.prefix}vel:{${user}}`)).toBe(5);
  });

  test("a burst of one user's events is counted whole, however the consumer batches it", async ({
    fraud,
  }) => {
    const user = randomUUID();
    const burst = Array.from({ length: 60 }, (_, i) =>
      purchase(user, minutesBefore(T, 50 - i * 0.5), "2.50"),
    );
    const twice = burst[0];
    if (twice === undefined) throw new Error("no events");
    await Promise.all(burst.map((e) => publishWalletEvent(fraud.nc, fraud.namespace, e)));
    // The same transaction under another event id, in the same burst.
    await publishWalletEvent(fraud.nc, fraud.namespace, twice);
    await fraud.feed(purchase(randomUUID(), T));

    const { rows } = await fraud.pg.pool.query<{ tx_count: number; base_total_minor: string }>(
      "SELECT tx_count, base_total_minor::text FROM user_daily_totals WHERE user_id = $1",
      [user],
    );
    expect(rows).toEqual([{ tx_count: 60, base_total_minor: "15000" }]);
    expect(await fraud.redis.zcard(`${fraud.prefix}vel:{${user}}`)).toBe(60);
  });

  test("the scored transaction's own event, consumed before the score, is not counted twice", async ({
    fraud,
  }) => {
    const user = randomUUID();
    const own = purchase(user, T);
    await fraud.feed(...spree(user, [9, 7, 5, 3]), own);
    const req = scoreRequest(user, T, "10.00", { transactionId: own.transactionId });
    expect(rulesOf(await fraud.score(req))).toEqual([]); // 4 before it + itself = 5
  });

  test("incoming transfers are not the user's doing and do not count", async ({ fraud }) => {
    const user = randomUUID();
    for (const e of spree(user, [9, 7, 5, 3, 1])) {
      await publishWalletEvent(fraud.nc, fraud.namespace, { ...e, direction: "incoming" });
    }
    await fraud.feed(purchase(randomUUID(), T)); // handled after the five, in stream order
    expect(rulesOf(await fraud.score(scoreRequest(user, T)))).toEqual([]);
  });
});

describe("amount rules", () => {
  test("UNUSUAL_AMOUNT: above 3x the average of the 30 days before today and today up to the transaction", async ({
    fraud,
  }) => {
    const user = randomUUID();
    const day = 86_400_000;
    await fraud.feed(
      purchase(user, new Date(T.getTime() - day), "50.00"),
      purchase(user, new Date(T.getTime() - day), "150.00"),
      purchase(user, new Date(T.getTime() - 29 * day), "100.00"),
      purchase(user, minutesBefore(T, 120), "100.00"),
      // Outside the lookback: 31 days ago, and later today than the scored transaction.
      purchase(user, new Date(T.getTime() - 31 * day), "9000.00"),
      purchase(user, new Date(T.getTime() + 3_600_000), "9000.00"),
    );
    expect(rulesOf(await fraud.score(scoreRequest(user, T, "300.00")))).toEqual([]);
    const res = await fraud.score(scoreRequest(user, T, "300.01"));
    expect(res.flags).toEqual([
      expect.objectContaining({
        rule: "UNUSUAL_AMOUNT",
        values: expect.objectContaining({ amount: "300.01", average: "100.00", transactions: "4" }),
      }),
    ]);
  });

  test("UNUSUAL_AMOUNT: a new user's 3 x 10.00 then 900.00 on the same day is flagged, with min_transactions respected", async ({
    fraud,
  }) => {
    const user = randomUUID();
    // Hours apart, so no velocity rule joins in.
    await fraud.feed(...[150, 120, 60].map((m) => purchase(user, minutesBefore(T, m), "10.00")));
    const res = await fraud.score(scoreRequest(user, T, "900.00"));
    expect(rulesOf(res)).toEqual(["UNUSUAL_AMOUNT"]);
    expect(res.flags[0]?.values).toMatchObject({ average: "10.00", transactions: "3", days: "30" });
    expect(res.score).toBe(20);

    const { rules: current } = await fraud.admin.getRules({});
    await fraud.admin.updateRules({
      unusualAmount: { minTransactions: 4 },
      expectedVersion: current?.version ?? 0,
    });
    try {
      expect(rulesOf(await fraud.score(scoreRequest(user, T, "900.00")))).toEqual([]);
    } finally {
      const { rules: changed } = await fraud.admin.getRules({});
      await fraud.admin.updateRules({
        unusualAmount: { minTransactions: 1 },
        expectedVersion: changed?.version ?? 0,
      });
    }
  });

  test("UNUSUAL_AMOUNT: a user with no history has no average and is not flagged", async ({ fraud }) => {
    expect(rulesOf(await fraud.score(scoreRequest(randomUUID(), T, "9999.00")))).toEqual([]);
  });

  test("HIGH_VALUE: above 10,000.00 MYR, compared in the base currency", async ({ fraud }) => {
    const user = randomUUID();
    expect(rulesOf(await fraud.score(scoreRequest(user, T, "10000.00")))).toEqual([]);
    expect(rulesOf(await fraud.score(scoreRequest(user, T, "10000.01")))).toEqual(["HIGH_VALUE"]);
    const usd = scoreRequest(user, T, "2127.66", {
      amount: { currency: "USD", amount: "2127.66" },
      baseAmount: { currency: "MYR", amount: "10000.00" },
    });
    expect(rulesOf(await fraud.score(usd))).toEqual([]);
    usd.transactionId = randomUUID();
    usd.baseAmount = { currency: "MYR", amount: "10000.01" };
    expect(rulesOf(await fraud.score(usd))).toEqual(["HIGH_VALUE"]);
  });
});

describe("OFF_HOURS", () => {
  test("a user in Kuala Lumpur at 23:30 local is off-hours while UTC is 15:30", async ({ fraud }) => {
    const user = randomUUID();
    const at = (utc: string, timezone = "Asia/Kuala_Lumpur") =>
      fraud.score(scoreRequest(user, new Date(utc), "10.00", { timezone }));
    const late = await at("2026-03-02T15:30:00Z");
    expect(late.flags).toEqual([
      expect.objectContaining({
        rule: "OFF_HOURS",
        values: expect.objectContaining({ local_time: "23:30" }),
      }),
    ]);
    expect(rulesOf(await at("2026-03-02T15:30:00Z", ""))).toEqual([]); // no zone: UTC, 15:30
    expect(rulesOf(await at("2026-03-02T14:59:00Z"))).toEqual([]); // 22:59
    expect(rulesOf(await at("2026-03-02T21:00:00Z"))).toEqual([]); // 05:00
    expect(rulesOf(await at("2026-03-02T20:59:59Z"))).toEqual(["OFF_HOURS"]); // 04:59:59
    expect(rulesOf(await at("2026-03-02T23:30:00Z", "Europe/London"))).toEqual(["OFF_HOURS"]);
  });
});

describe("POSSIBLE_DUPLICATE", () => {
  test("same user, amount and merchant within 5 minutes: a flag without points", async ({ fraud }) => {
    const user = randomUUID();
    await fraud.feed(purchase(user, minutesBefore(T, 4), "45.50", { merchantName: "Kedai Kopi" }));
    const dup = await fraud.score(scoreRequest(user, T, "45.50", { merchantName: " KEDAI KOPI" }));
    expect(dup.flags).toEqual([
      expect.objectContaining({
        rule: "POSSIBLE_DUPLICATE",
        points: 0,
        values: { matches: "1", window: "5m" },
      }),
    ]);
    expect(dup.score).toBe(0);
    expect(rulesOf(await fraud.score(scoreRequest(user, T, "45.51")))).toEqual([]);
    expect(rulesOf(await fraud.score(scoreRequest(user, T, "45.50", { merchantName: "Other" })))).toEqual([]);

    const edge = randomUUID();
    await fraud.feed(purchase(edge, minutesBefore(T, 5), "45.50"));
    expect(rulesOf(await fraud.score(scoreRequest(edge, T, "45.50")))).toEqual([]);
  });
});

describe("retention", () => {
  test("feature rows past their retention are pruned; the lookback's daily totals stay", async ({
    fraud,
  }) => {
    const user = randomUUID();
    const day = 86_400_000;
    const old = purchase(user, new Date(T.getTime() - 3 * day), "10.00");
    const recent = purchase(user, minutesBefore(T, 60), "11.00");
    const ancient = purchase(user, new Date(T.getTime() - 100 * day), "12.00");
    await fraud.feed(old, recent, ancient);
    fraud.clock.set(T);
    expect(await fraud.app.service.prune()).toBeGreaterThanOrEqual(3);
    const { rows } = await fraud.pg.pool.query<{ transaction_id: string }>(
      "SELECT transaction_id FROM user_transactions WHERE user_id = $1",
      [user],
    );
    expect(rows.map((r) => r.transaction_id)).toEqual([recent.transactionId]);
    const days = await fraud.pg.pool.query<{ day: string }>(
      "SELECT to_char(day, 'YYYY-MM-DD') AS day FROM user_daily_totals WHERE user_id = $1 ORDER BY day",
      [user],
    );
    expect(days.rows.map((r) => r.day)).toEqual(["2026-02-27", "2026-03-02"]);
  });
});
