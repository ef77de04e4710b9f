import { randomUUID } from "node:crypto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { formatAmount } from "@fintech/money";
import type { TransactionEventSchema } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import { TransactionStatus, TransactionType } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import fc from "fast-check";
import { expect } from "vitest";
import type { AnalyticsHarness } from "./test/harness.js";
import { analyticsTest } from "./test/harness.js";

// Property: whatever the events (random users, time zones around day and DST boundaries, types, currencies,
// refunds, reversals, redeliveries and late events for days already moved to Postgres), every answer equals a
// brute-force computation over the same events, before and after the mover runs.

const test = analyticsTest({ ANALYTICS_CACHE_TTL_SECONDS: "0" });
const WALLET = "analytics-wallet";
const ZONES = [
  "UTC",
  "Asia/Kuala_Lumpur",
  "America/New_York",
  "Europe/London",
  "Australia/Lord_Howe",
  "Asia/Kathmandu",
  "Pacific/Chatham",
  "America/St_Johns",
  "Pacific/Kiritimati",
];
const CATEGORIES = ["food_beverage", "shopping", "transport"];
const CURRENCIES = ["MYR", "SGD", "USD"];
const KINDS = [
  "purchase",
  "purchase",
  "purchase",
  "refund",
  "top_up",
  "withdrawal",
  "transfer_out",
  "transfer_in",
];
const USER_KINDS = [
  "purchase",
  "refund",
  "top_up",
  "withdrawal",
  "transfer_out",
  "transfer_in",
  "conversion",
];
const DAY_MS = 86_400_000;

interface Gen {
  user: number;
  zone: string;
  /** Minutes after the run's start. */
  minute: number;
  kind: string;
  category: string;
  currency: string;
  amount: number;
  base: number;
  provider: number;
  reversed: boolean;
  duplicate: boolean;
  noise: boolean;
  /** Published in the second wave (after a mover pass), e.g. for days already cold. */
  late: boolean;
  refundOf: number;
}

const genTx = fc.record({
  user: fc.integer({ min: 0, max: 2 }),
  zone: fc.constantFrom(...ZONES),
  minute: fc.integer({ min: 0, max: 40 * 24 * 60 }),
  kind: fc.constantFrom(...KINDS),
  category: fc.constantFrom(...CATEGORIES),
  currency: fc.constantFrom(...CURRENCIES),
  amount: fc.integer({ min: 1, max: 100_000 }),
  base: fc.integer({ min: 1, max: 500_000 }),
  provider: fc.integer({ min: 0, max: 2 }),
  reversed: fc.boolean(),
  duplicate: fc.boolean(),
  noise: fc.boolean(),
  late: fc.boolean(),
  refundOf: fc.nat(),
});
/**
 * Three more transactions each run: two on its first day, one published before the run's first move and one
 * after it (when that day is cold), and one 40 days later, which moves the hot window past the first day.
 * Without them a short history stays hot, and six runs could move nothing (the test's last checks failed so
 * about one run of the file in four).
 */
const genEdges = fc.tuple(genTx, genTx, genTx).map(([first, late, last]): Gen[] => [
  { ...first, minute: 0, late: false },
  { ...late, minute: 0, late: true },
  { ...last, minute: 40 * 24 * 60, late: false },
]);

interface Tx {
  id: string;
  g: Gen;
  userId: string;
  at: number;
  provider: string;
  /** The category it counts under (refunds: their purchase's). */
  category: string;
  originalId: string;
  /** Its reversal has been published. */
  reversedPublished?: boolean;
}

const localDay = (ms: number, zone: string) =>
  new Intl.DateTimeFormat("en-CA", {
    timeZone: zone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).format(ms);
const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const money = (minor: bigint) => formatAmount(minor, "MYR");

function event(t: Tx, status: TransactionStatus): MessageInitShape<typeof TransactionEventSchema> {
  const { g } = t;
  const type =
    g.kind === "purchase"
      ? TransactionType.PURCHASE
      : g.kind === "refund"
        ? TransactionType.REFUND
        : g.kind === "top_up"
          ? TransactionType.TOP_UP
          : g.kind === "withdrawal"
            ? TransactionType.WITHDRAWAL
            : TransactionType.TRANSFER;
  const at = timestampFromMs(t.at);
  return {
    transactionId: t.id,
    userId: t.userId,
    type,
    status,
    amount: { currency: g.currency, amount: formatAmount(BigInt(g.amount), g.currency) },
    baseAmount: { currency: "MYR", amount: money(BigInt(g.base)) },
    merchantCategory: g.kind === "purchase" ? g.category : "",
    originalTransactionId: t.originalId,
    provider: t.provider,
    timezone: g.zone,
    direction: g.kind === "transfer_out" ? "outgoing" : g.kind === "transfer_in" ? "incoming" : "",
    createdAt: at,
    occurredAt: at,
  };
}

/** What the service should answer for one user, computed the slow, obvious way. */
function expectedUser(txs: Tx[], currency?: string) {
  const counted = txs.filter(
    (t) => !(t.g.reversed && t.reversedPublished) && (currency === undefined || t.g.currency === currency),
  );
  const amountOf = (t: Tx) => BigInt(currency === undefined ? t.g.base : t.g.amount);
  const categories = new Map<string, { net: bigint; count: number; refunded: bigint; refundCount: number }>();
  const days = new Map<string, { net: bigint; count: number }>();
  const kinds = new Map(USER_KINDS.map((k) => [k, { count: 0, total: 0n }]));
  let gross = 0n;
  let count = 0;
  let refunded = 0n;
  let refundCount = 0;
  for (const t of counted) {
    const k = kinds.get(t.g.kind);
    if (k !== undefined) {
      k.count++;
      k.total += amountOf(t);
    }
    if (t.g.kind !== "purchase" && t.g.kind !== "refund") continue;
    const c = categories.get(t.category) ?? { net: 0n, count: 0, refunded: 0n, refundCount: 0 };
    categories.set(t.category, c);
    const day = localDay(t.at, t.g.zone);
    const d = days.get(day) ?? { net: 0n, count: 0 };
    days.set(day, d);
    if (t.g.kind === "purchase") {
      c.net += amountOf(t);
      c.count++;
      d.net += amountOf(t);
      d.count++;
      gross += amountOf(t);
      count++;
    } else {
      c.net -= amountOf(t);
      c.refunded += amountOf(t);
      c.refundCount++;
      d.net -= amountOf(t);
      refunded += amountOf(t);
      refundCount++;
    }
  }
  const active = [...days].filter(([, d]) => d.count > 0).sort(([a], [b]) => (a < b ? -1 : 1));
  let best: [string, bigint] | undefined;
  for (const [day, d] of active) if (best === undefined || d.net > best[1]) best = [day, d.net];
  const cats = [...categories]
    .sort(([a, x], [b, y]) => (x.net !== y.net ? (x.net > y.net ? -1 : 1) : a < b ? -1 : 1))
    .map(([category, c]) => ({
      category,
      total: formatAmount(c.net, currency ?? "MYR"),
      count: BigInt(c.count),
      refunded: formatAmount(c.refunded, currency ?? "MYR"),
      refundCount: BigInt(c.refundCount),
    }));
  const avg = count === 0 ? 0n : halfEven(gross, BigInt(count));
  return {
    spending: {
      total: formatAmount(gross - refunded, currency ?? "MYR"),
      count: BigInt(count),
      categories: cats,
    },
    summary: {
      transactionCount: BigInt(count),
      averageTransactionValue: formatAmount(avg, currency ?? "MYR"),
      highestTransactionDay:
        best === undefined ? undefined : { date: best[0], total: formatAmount(best[1], currency ?? "MYR") },
      totalSpent: formatAmount(gross - refunded, currency ?? "MYR"),
      totalRefunded: formatAmount(refunded, currency ?? "MYR"),
      refundCount: BigInt(refundCount),
      topCategory:
        cats[0] === undefined
          ? undefined
          : { category: cats[0].category, total: cats[0].total, count: cats[0].count },
      firstTransactionDate: active[0]?.[0] ?? "",
      lastTransactionDate: active.at(-1)?.[0] ?? "",
      activeDays: BigInt(active.length),
      byType: [...kinds].map(([type, k]) => ({
        type,
        count: BigInt(k.count),
        total: formatAmount(k.total, currency ?? "MYR"),
      })),
    },
    days,
  };
}

function halfEven(a: bigint, b: bigint): bigint {
  const q = a / b;
  const r = a % b;
  if (r * 2n > b || (r * 2n === b && q % 2n === 1n)) return q + 1n;
  return q;
}

/** Platform totals per UTC day and provider for this run's providers. */
function expectedStats(txs: Tx[]) {
  const out = new Map<string, Map<string, { count: bigint; amount: bigint }>>();
  for (const t of txs) {
    if ((t.g.reversed && t.reversedPublished) || t.g.kind === "transfer_in") continue;
    const day = utcDay(t.at);
    const byProvider = out.get(day) ?? new Map();
    out.set(day, byProvider);
    const e = byProvider.get(t.provider) ?? { count: 0n, amount: 0n };
    byProvider.set(t.provider, e);
    e.count++;
    e.amount += BigInt(t.g.base);
  }
  return out;
}

async function check(h: AnalyticsHarness, users: string[], txs: Tx[], start: number) {
  const admin = h.as("admin", ["user", "admin"]);
  for (const userId of users) {
    const mine = txs.filter((t) => t.userId === userId);
    const client = h.as(userId);
    const want = expectedUser(mine);
    const spending = await client.getSpending({});
    expect({
      total: spending.total,
      count: spending.count,
      categories: spending.categories.map(({ category, total, count, refunded, refundCount }) => ({
        category,
        total,
        count,
        refunded,
        refundCount,
      })),
    }).toEqual(want.spending);
    const summary = await client.getSummary({});
    expect({
      transactionCount: summary.transactionCount,
      averageTransactionValue: summary.averageTransactionValue,
      highestTransactionDay: summary.highestTransactionDay && {
        date: summary.highestTransactionDay.date,
        total: summary.highestTransactionDay.total,
      },
      totalSpent: summary.totalSpent,
      totalRefunded: summary.totalRefunded,
      refundCount: summary.refundCount,
      topCategory: summary.topCategory && {
        category: summary.topCategory.category,
        total: summary.topCategory.total,
        count: summary.topCategory.count,
      },
      firstTransactionDate: summary.firstTransactionDate,
      lastTransactionDate: summary.lastTransactionDate,
      activeDays: summary.activeDays,
      byType: summary.byType.map(({ type, count, total }) => ({ type, count, total })),
    }).toEqual(want.summary);

    const usd = expectedUser(mine, "USD");
    const usdSpending = await client.getSpending({ currency: "USD" });
    expect([usdSpending.total, usdSpending.count]).toEqual([usd.spending.total, usd.spending.count]);

    const from = utcDay(start - DAY_MS);
    const to = utcDay(start + 42 * DAY_MS);
    const series = await client.getTimeSeries({ granularity: "day", startDate: from, endDate: to });
    const seriesWant = [...want.days]
      .filter(([, d]) => d.net !== 0n || d.count !== 0)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    expect(
      series.points
        .filter((p) => p.total !== "0.00" || p.count !== 0n)
        .map((p) => [p.periodStart, p.total, p.count]),
    ).toEqual(seriesWant.map(([day, d]) => [day, money(d.net), BigInt(d.count)]));
  }

  const stats = await admin.getStats({ fromDate: utcDay(start), toDate: utcDay(start + 41 * DAY_MS) });
  const providers = new Set(txs.map((t) => t.provider));
  const got = stats.days
    .map((d) => [
      d.date,
      d.byProvider
        .filter((p) => providers.has(p.provider) && (p.count !== 0n || p.amount !== "0.00"))
        .map((p) => [p.provider, p.count, p.amount]),
    ])
    .filter(([, list]) => (list as unknown[]).length > 0);
  const want = [...expectedStats(txs)]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([day, byProvider]) => [
      day,
      [...byProvider]
        .filter(([, e]) => e.count !== 0n || e.amount !== 0n)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([p, e]) => [p, e.count, money(e.amount)]),
    ])
    .filter(([, list]) => (list as unknown[]).length > 0);
  expect(got).toEqual(want);
}

test("every answer equals a brute-force computation over the same events, before and after moves", async ({
  analytics,
}) => {
  let inbox = 0;
  let run = 0;
  let moved = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(genTx, { maxLength: 30 }),
      genEdges,
      fc.integer({ min: 0, max: 300 }),
      async (random, edges, startDay) => {
        const gens = [...edges, ...random];
        run++;
        const tag = `r${run}${randomUUID().slice(0, 6)}`;
        // Runs start on different days (the event-time clock moves back and forth between runs), at 23:30 UTC
        // so local days straddle UTC midnight.
        const start = Date.UTC(2026, 1, 1) + startDay * DAY_MS - 30 * 60_000;
        const txs: Tx[] = [];
        const purchases: Tx[] = [];
        for (const g of gens) {
          const t: Tx = {
            id: randomUUID(),
            g,
            userId: `${tag}-u${g.user}`,
            at: start + g.minute * 60_000,
            provider: `${tag}p${g.provider}`,
            category: g.category,
            originalId: "",
          };
          if (g.kind === "refund") {
            const original = purchases.length === 0 ? undefined : purchases[g.refundOf % purchases.length];
            t.category = original?.category ?? "uncategorized";
            t.originalId = original?.id ?? "";
          }
          if (g.kind === "purchase" && !g.late) purchases.push(t);
          txs.push(t);
        }
        const users = [...new Set(txs.map((t) => t.userId))];

        // Wave 1: purchases first (refunds find their category), with redeliveries and ignored event types.
        const wave1 = [
          ...txs.filter((t) => !t.g.late && t.g.kind === "purchase"),
          ...txs.filter((t) => !t.g.late && t.g.kind !== "purchase"),
        ];
        for (const t of wave1) {
          const id = randomUUID();
          if (t.g.noise)
            await analytics.publishTransaction(
              "wallet.transaction.created",
              event(t, TransactionStatus.PENDING),
              randomUUID(),
            );
          await analytics.publishTransaction(
            "wallet.transaction.completed",
            event(t, TransactionStatus.COMPLETED),
            id,
          );
          if (t.g.duplicate)
            await analytics.publishTransaction(
              "wallet.transaction.completed",
              event(t, TransactionStatus.COMPLETED),
              id,
            );
          inbox++;
        }
        await analytics.settled(WALLET, inbox);
        const published = txs.filter((t) => !t.g.late);
        await check(analytics, users, published, start);
        moved += (await analytics.app.mover.runOnce()).moved;
        await check(analytics, users, published, start);

        // Wave 2: reversals and late transactions, many for days that are now cold.
        for (const t of txs) {
          if (t.g.late) {
            await analytics.publishTransaction(
              "wallet.transaction.completed",
              event(t, TransactionStatus.COMPLETED),
              randomUUID(),
            );
            inbox++;
          }
          if (t.g.reversed) {
            const id = randomUUID();
            await analytics.publishTransaction(
              "wallet.transaction.reversed",
              event(t, TransactionStatus.REVERSED),
              id,
            );
            if (t.g.duplicate)
              await analytics.publishTransaction(
                "wallet.transaction.reversed",
                event(t, TransactionStatus.REVERSED),
                id,
              );
            t.reversedPublished = true;
            inbox++;
          }
        }
        await analytics.settled(WALLET, inbox);
        await check(analytics, users, txs, start);
        moved += (await analytics.app.mover.runOnce()).moved;
        await check(analytics, users, txs, start);
      },
    ),
    { numRuns: 6 },
  );
  // The runs did exercise the cold path (days moved, and late events added to cold days).
  expect(moved).toBeGreaterThan(0);
  const { rows } = await analytics.pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM day_aggregates WHERE NOT hot_merged",
  );
  expect(rows[0]?.n).toBeGreaterThan(0);
  // Six random histories, each consumed, queried and moved: seconds on a quiet machine, more on a busy one.
}, 60_000);
