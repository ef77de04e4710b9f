import { randomUUID } from "node:crypto";
import { waitFor } from "@fintech/testing";
import { describe, expect } from "vitest";
import type { AnalyticsGatewayHarness } from "./test/analytics-harness.js";
import { analyticsGatewayTest } from "./test/analytics-harness.js";

// A user's analytics through the gateway answer in the user's own time zone and default currency (as
// identity has them), unless the request says otherwise.
const test = analyticsGatewayTest();

interface Spending {
  currency: string;
  total: string;
  base_total: string;
  categories: Array<{ category: string; total: string; base_total: string }>;
}
interface Series {
  currency: string;
  end_date: string;
  points: Array<{ period_start: string; total: string; base_total: string; count: number }>;
}
interface Summary {
  currency: string;
  total_spent: string;
  transaction_count: number;
}

/** Imports rows for a user (as an admin) and waits until the user's spending counts `count` purchases. */
async function history(
  gw: AnalyticsGatewayHarness,
  userId: string,
  timezone: string,
  rows: string[],
  count: number,
) {
  const admin = await gw.token("admin-1", ["user", "admin"]);
  gw.users.add(userId);
  const res = await gw.call(`/api/v1/imports?user_id=${userId}&timezone=${encodeURIComponent(timezone)}`, {
    token: admin,
    method: "POST",
    headers: { "content-type": "text/csv" },
    body: `timestamp,type,provider,amount,merchant_category\n${rows.join("\n")}\n`,
  });
  expect(res.status).toBe(202);
  const token = await gw.token(userId);
  await waitFor(
    async () => {
      const s = (await (
        await gw.call("/api/v1/analytics/spending?currency=MYR", { token })
      ).json()) as Spending;
      return (
        s.categories.reduce((n, c) => n + (c.total === "0.00" ? 0 : 1), 0) > 0 &&
        ((await (await gw.call("/api/v1/analytics/summary?currency=MYR", { token })).json()) as Summary)
          .transaction_count === count
      );
    },
    { timeoutMs: 20_000 },
  );
  return token;
}

/** The local date of an instant in a time zone. */
const localDay = (ms: number, timezone: string) =>
  new Intl.DateTimeFormat("en-CA", {
    timeZone: timezone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).format(ms);

describe("a user's analytics in their time zone and currency", () => {
  test("without ?currency= the answers are in the default currency at each day's rate, base amounts kept", async ({
    gw,
  }) => {
    const user = `u-${randomUUID()}`;
    gw.profiles.set(user, { timezone: "Asia/Singapore", defaultCurrency: "SGD" });
    // 35.00 MYR on a day at 3.50 and 34.00 MYR on a day at 3.40: 10.00 SGD each.
    const token = await history(
      gw,
      user,
      "Asia/Singapore",
      [
        "2026-04-01T04:00:00Z,purchase,visa,35.00,food_beverage",
        "2026-04-02T04:00:00Z,purchase,visa,34.00,shopping",
      ],
      2,
    );
    const spending = (await (
      await gw.call("/api/v1/analytics/spending?start_date=2026-04-01&end_date=2026-04-02", { token })
    ).json()) as Spending;
    expect(spending).toMatchObject({ currency: "SGD", total: "20.00", base_total: "69.00" });
    expect(spending.categories.map((c) => [c.category, c.total, c.base_total])).toEqual([
      ["food_beverage", "10.00", "35.00"],
      ["shopping", "10.00", "34.00"],
    ]);
    const series = (await (
      await gw.call("/api/v1/analytics/timeseries?start_date=2026-04-01&end_date=2026-04-02", { token })
    ).json()) as Series;
    expect(series.currency).toBe("SGD");
    expect(series.points.map((p) => [p.period_start, p.total, p.base_total])).toEqual([
      ["2026-04-01", "10.00", "35.00"],
      ["2026-04-02", "10.00", "34.00"],
    ]);
    const summary = (await (await gw.call("/api/v1/analytics/summary", { token })).json()) as Summary;
    expect(summary).toMatchObject({ currency: "SGD", total_spent: "20.00", transaction_count: 2 });
    // ?currency= still means only that currency's transactions, in it.
    const myr = (await (
      await gw.call("/api/v1/analytics/summary?currency=MYR", { token })
    ).json()) as Summary;
    expect(myr).toMatchObject({ currency: "MYR", total_spent: "69.00" });
  });

  test("the default time series ends on the user's today, not UTC's", async ({ gw }) => {
    const now = Date.now();
    const utcToday = new Date(now).toISOString().slice(0, 10);
    // At any hour one of these is on another date than UTC: +14 from 10:00 UTC, -11 before 11:00 UTC.
    const timezone = ["Pacific/Kiritimati", "Pacific/Pago_Pago"].find((z) => localDay(now, z) !== utcToday);
    if (timezone === undefined) throw new Error("no time zone on another date than UTC");
    const user = `u-${randomUUID()}`;
    gw.profiles.set(user, { timezone, defaultCurrency: "MYR" });
    const token = await history(
      gw,
      user,
      timezone,
      [`${new Date(now).toISOString()},purchase,visa,12.00,food_beverage`],
      1,
    );
    const today = localDay(Date.now(), timezone);
    const series = (await (await gw.call("/api/v1/analytics/timeseries", { token })).json()) as Series;
    expect(series.end_date).toBe(today);
    expect(series.points.at(-1)).toMatchObject({ period_start: today, total: "12.00", count: 1 });
  });
});
