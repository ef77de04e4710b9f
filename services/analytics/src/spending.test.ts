import { randomUUID } from "node:crypto";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { TransactionStatus, TransactionType } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import { describe, expect } from "vitest";
import { userScope } from "./counters.js";
import { createHotStore } from "./hot-store.js";
import { analyticsTest, expectRefusal } from "./test/harness.js";

const test = analyticsTest();
const WALLET = "analytics-wallet";

interface Money {
  currency: string;
  amount: string;
}

/** A wallet transaction event as plain fields (assignable to the message's init shape). */
interface Tx {
  transactionId: string;
  userId: string;
  type: TransactionType;
  status: TransactionStatus;
  timezone: string;
  provider: string;
  merchantCategory?: string;
  originalTransactionId?: string;
  refundedAmount?: Money;
  amount: Money;
  baseAmount: Money;
  createdAt: Timestamp;
  occurredAt: Timestamp;
}

function tx(
  userId: string,
  fields: {
    at: string;
    amount: string;
    currency?: string;
    base?: string;
    type?: TransactionType;
    merchantCategory?: string;
    provider?: string;
    originalTransactionId?: string;
  },
): Tx {
  const at = timestampFromDate(new Date(fields.at));
  const currency = fields.currency ?? "MYR";
  return {
    transactionId: randomUUID(),
    userId,
    type: fields.type ?? TransactionType.PURCHASE,
    status: TransactionStatus.COMPLETED,
    timezone: "Asia/Kuala_Lumpur",
    provider: fields.provider ?? "",
    ...(fields.merchantCategory === undefined ? {} : { merchantCategory: fields.merchantCategory }),
    ...(fields.originalTransactionId === undefined
      ? {}
      : { originalTransactionId: fields.originalTransactionId }),
    amount: { currency, amount: fields.amount },
    baseAmount: { currency: "MYR", amount: fields.base ?? fields.amount },
    createdAt: at,
    occurredAt: at,
  };
}

describe("a user's spending from wallet events", () => {
  test("counts completed purchases once, net of refunds and reversals, per category", async ({
    analytics,
  }) => {
    const user = randomUUID();
    const lunch = tx(user, {
      at: "2026-03-02T04:00:00Z",
      amount: "45.50",
      merchantCategory: "food_beverage",
    });
    const dinner = tx(user, {
      at: "2026-03-02T12:00:00Z",
      amount: "20.00",
      merchantCategory: "food_beverage",
    });
    const shoes = tx(user, {
      at: "2026-03-03T02:00:00Z",
      amount: "30.00",
      currency: "USD",
      base: "141.00",
      merchantCategory: "shopping",
    });
    const taxi = tx(user, { at: "2026-03-03T03:00:00Z", amount: "12.00", merchantCategory: "transport" });
    const refund = tx(user, {
      at: "2026-03-04T01:00:00Z",
      amount: "5.50",
      type: TransactionType.REFUND,
      originalTransactionId: lunch.transactionId,
    });
    const topUp = tx(user, {
      at: "2026-03-01T01:00:00Z",
      amount: "500.00",
      type: TransactionType.TOP_UP,
      provider: "visa",
    });
    const events: Array<[string, Tx]> = [
      ["wallet.transaction.created", { ...lunch, status: TransactionStatus.PENDING }],
      ["wallet.transaction.completed", lunch],
      ["wallet.transaction.completed", dinner],
      ["wallet.transaction.completed", shoes],
      ["wallet.transaction.completed", taxi],
      ["wallet.transaction.reversed", { ...taxi, status: TransactionStatus.REVERSED }],
      [
        "wallet.transaction.failed",
        tx(user, { at: "2026-03-03T05:00:00Z", amount: "99.00", merchantCategory: "shopping" }),
      ],
      ["wallet.transaction.completed", refund],
      ["wallet.transaction.refunded", { ...lunch, refundedAmount: { currency: "MYR", amount: "5.50" } }],
      ["wallet.transaction.completed", topUp],
    ];
    const inbox = await analytics.inbox(WALLET);
    for (const [type, event] of events) await analytics.publishTransaction(type, event, randomUUID());
    // created, failed and refunded are acknowledged without an inbox row
    await analytics.settled(WALLET, inbox + 7);

    const client = analytics.as(user);
    const spending = await client.getSpending({});
    expect(spending.currency).toBe("MYR");
    expect(spending.total).toBe("201.00");
    expect(spending.count).toBe(3n);
    expect(
      spending.categories.map((c) => [c.category, c.total, c.count, c.refunded, c.refundCount, c.baseTotal]),
    ).toEqual([
      ["shopping", "141.00", 1n, "0.00", 0n, "141.00"],
      ["food_beverage", "60.00", 2n, "5.50", 1n, "60.00"],
    ]);
    expect(spending.categories[0]?.amounts.map((a) => [a.currency, a.amount, a.count])).toEqual([
      ["USD", "30.00", 1n],
    ]);

    const usd = await client.getSpending({ currency: "usd" });
    expect([usd.currency, usd.total, usd.count, usd.baseTotal]).toEqual(["USD", "30.00", 1n, "141.00"]);

    const march3 = await client.getSpending({ startDate: "2026-03-03", endDate: "2026-03-03" });
    expect(march3.categories.map((c) => [c.category, c.total])).toEqual([["shopping", "141.00"]]);

    const summary = await client.getSummary({});
    expect(summary).toMatchObject({
      currency: "MYR",
      transactionCount: 3n,
      averageTransactionValue: "68.83",
      highestTransactionDay: { date: "2026-03-03", total: "141.00" },
      totalSpent: "201.00",
      totalRefunded: "5.50",
      refundCount: 1n,
      topCategory: { category: "shopping", total: "141.00", count: 1n },
      firstTransactionDate: "2026-03-02",
      lastTransactionDate: "2026-03-03",
      activeDays: 2n,
    });
    expect(summary.byType.find((t) => t.type === "top_up")).toMatchObject({ count: 1n, total: "500.00" });

    const series = await client.getTimeSeries({
      granularity: "day",
      startDate: "2026-03-01",
      endDate: "2026-03-04",
    });
    expect(series.points.map((p) => [p.periodStart, p.total, p.count])).toEqual([
      ["2026-03-01", "0.00", 0n],
      ["2026-03-02", "65.50", 2n],
      ["2026-03-03", "141.00", 1n],
      ["2026-03-04", "-5.50", 0n],
    ]);
    const weeks = await client.getTimeSeries({
      granularity: "week",
      startDate: "2026-03-01",
      endDate: "2026-03-04",
    });
    expect(weeks.points.map((p) => [p.periodStart, p.periodEnd, p.total])).toEqual([
      ["2026-02-23", "2026-03-01", "0.00"],
      ["2026-03-02", "2026-03-08", "201.00"],
    ]);

    const stats = await analytics
      .as("admin-1", ["user", "admin"])
      .getStats({ fromDate: "2026-03-01", toDate: "2026-03-04" });
    expect(stats.byType.map((t) => [t.type, t.count, t.amount])).toEqual([
      ["top_up", 1n, "500.00"],
      ["purchase", 3n, "206.50"],
      ["refund", 1n, "5.50"],
    ]);
    expect(stats.byProvider.map((p) => [p.provider, p.count])).toEqual([
      ["internal", 4n],
      ["visa", 1n],
    ]);
    expect(stats.days.map((d) => d.date)).toEqual(["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"]);
  });

  test("counts a redelivered event once", async ({ analytics }) => {
    const user = randomUUID();
    const event = tx(user, { at: "2026-03-05T04:00:00Z", amount: "10.00", merchantCategory: "groceries" });
    const id = randomUUID();
    const inbox = await analytics.inbox(WALLET);
    await analytics.publishTransaction("wallet.transaction.completed", event, id);
    await analytics.publishTransaction("wallet.transaction.completed", event, id);
    await analytics.publishTransaction("wallet.transaction.completed", event, id);
    const marker = tx(user, { at: "2026-03-05T05:00:00Z", amount: "1.00", merchantCategory: "groceries" });
    await analytics.publishTransaction("wallet.transaction.completed", marker, randomUUID());
    // One row for the event delivered three times, one for the marker.
    await analytics.settled(WALLET, inbox + 2);
    const summary = await analytics.as(user).getSummary({});
    expect([summary.transactionCount, summary.totalSpent]).toEqual([2n, "11.00"]);
  });

  test("a cached answer is replaced as soon as a new event lands", async ({ analytics, redis }) => {
    const user = randomUUID();
    const client = analytics.as(user);
    const inbox = await analytics.inbox(WALLET);
    await analytics.publishTransaction(
      "wallet.transaction.completed",
      tx(user, { at: "2026-03-06T04:00:00Z", amount: "10.00", merchantCategory: "groceries" }),
      randomUUID(),
    );
    await analytics.settled(WALLET, inbox + 1);
    const first = await client.getSummary({});
    expect(first.totalSpent).toBe("10.00");
    // The answer is now cached under the user's version.
    const cacheKey = createHotStore({ redis: redis.client, prefix: redis.prefix }).keyOf(
      userScope(user),
      "q:summary:",
    );
    expect(JSON.parse((await redis.client.get(cacheKey)) ?? "{}")).toMatchObject({
      r: { totalSpent: "10.00" },
    });
    expect((await client.getSummary({})).totalSpent).toBe("10.00");
    const day = await client.getSpending({ startDate: "2026-03-06", endDate: "2026-03-06" });
    expect(day.total).toBe("10.00");

    await analytics.publishTransaction(
      "wallet.transaction.completed",
      tx(user, { at: "2026-03-06T05:00:00Z", amount: "2.25", merchantCategory: "groceries" }),
      randomUUID(),
    );
    await analytics.settled(WALLET, inbox + 2);
    // The consumer acknowledged the event: every answer read from now on includes it.
    expect((await client.getSummary({})).totalSpent).toBe("12.25");
    expect((await client.getSpending({ startDate: "2026-03-06", endDate: "2026-03-06" })).total).toBe(
      "12.25",
    );
  });
});

describe("who sees what", () => {
  test("a user sees only their own analytics; stats, fraud and imports are for admins", async ({
    analytics,
  }) => {
    const user = analytics.as("user-a");
    await expectRefusal(user.getSummary({ userId: "user-b" }), Code.NotFound, "NOT_FOUND");
    await expectRefusal(user.getStats({}), Code.PermissionDenied, "FORBIDDEN");
    await expectRefusal(user.getFraudStats({}), Code.PermissionDenied, "FORBIDDEN");
    await expectRefusal(
      user.createImport({ csv: "timestamp,type,provider,amount\n" }),
      Code.PermissionDenied,
      "FORBIDDEN",
    );
    const { createClient } = await import("@connectrpc/connect");
    const { createGrpcTransport } = await import("@connectrpc/connect-node");
    const { AnalyticsService } = await import("@fintech/proto/fintech/analytics/v1/analytics_pb.js");
    const anonymous = createClient(AnalyticsService, createGrpcTransport({ baseUrl: analytics.url }));
    await expectRefusal(anonymous.getSummary({}), Code.Unauthenticated, "UNAUTHENTICATED");
    const admin = analytics.as("admin-1", ["user", "admin"]);
    expect((await admin.getSummary({ userId: "user-b" })).transactionCount).toBe(0n);
  });

  test("refuses bad dates, currencies and ranges as VALIDATION_ERROR", async ({ analytics }) => {
    const user = analytics.as("user-a");
    await expectRefusal(
      user.getSpending({ startDate: "2026-02-30" }),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
      {
        field: "start_date",
      },
    );
    await expectRefusal(user.getSpending({ currency: "XYZ" }), Code.InvalidArgument, "VALIDATION_ERROR", {
      field: "currency",
    });
    await expectRefusal(
      user.getSpending({ startDate: "2026-03-02", endDate: "2026-03-01" }),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
      { field: "start_date" },
    );
    await expectRefusal(
      user.getTimeSeries({ granularity: "hour" }),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
      {
        field: "granularity",
      },
    );
    const admin = analytics.as("admin-1", ["user", "admin"]);
    await expectRefusal(
      admin.getStats({ fromDate: "2024-01-01", toDate: "2026-01-01" }),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
      { field: "to_date" },
    );
  });
});
