import { randomUUID } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { waitFor } from "@fintech/testing";
import { describe, expect } from "vitest";
import type { AnalyticsHarness } from "./test/harness.js";
import { analyticsTest, expectRefusal } from "./test/harness.js";

const test = analyticsTest();
const IMPORTS = "analytics-imports";

async function finished(h: AnalyticsHarness, id: string) {
  const admin = h.as("admin-1", ["user", "admin"]);
  return waitFor(
    async () => {
      const { job } = await admin.getImport({ id });
      return job !== undefined && job.status !== "running" && job;
    },
    { timeoutMs: 10_000 },
  );
}

const CSV = [
  "timestamp,type,provider,amount,currency,sleep_ms,merchant_category",
  "2026-04-01T08:00:00Z,deposit,visa,100.00,,,",
  "2026-04-01T09:00:00Z,purchase,visa,40.00,,,food_beverage",
  "not a date,purchase,visa,10.00,,,",
  "2026-04-01T10:00:00Z,purchase,visa,-5.00,,,",
  "2026-04-01T11:00:00Z,purchase,visa,5.00,ABC,,",
  "2026-04-01T12:00:00Z,purchase,visa",
  "2026-04-02T01:00:00Z,purchase,paypal,10.00,USD,,shopping",
  "2026-04-02T02:00:00Z,withdrawal,wire,30.00,,,",
].join("\n");

describe("CSV imports", () => {
  test("imports the good rows through the event path and reports the bad ones by line", async ({
    analytics,
  }) => {
    const admin = analytics.as("admin-1", ["user", "admin"]);
    const user = `u-${randomUUID()}`;
    analytics.users.add(user);
    const inbox = await analytics.inbox(IMPORTS);
    const { importId } = await admin.createImport({ csv: CSV, userId: user, timezone: "Asia/Kuala_Lumpur" });
    const job = await finished(analytics, importId);
    expect(job).toMatchObject({
      status: "completed",
      userId: user,
      percent: 100,
      rowsTotal: 8n,
      rowsProcessed: 8n,
      rowsImported: 4n,
      rowsFailed: 4n,
      duplicateOf: "",
    });
    expect(job.errors.map((e) => [e.line, e.reason, e.column])).toEqual([
      [4n, "BAD_DATE", "timestamp"],
      [5n, "NEGATIVE_AMOUNT", "amount"],
      [6n, "UNKNOWN_CURRENCY", "currency"],
      [7n, "MISSING_COLUMN", "amount"],
    ]);
    await analytics.settled(IMPORTS, inbox + 4);

    const spending = await analytics.as(user).getSpending({});
    expect(spending.categories.map((c) => [c.category, c.total, c.count])).toEqual([
      ["shopping", "47.00", 1n],
      ["food_beverage", "40.00", 1n],
    ]);
    const summary = await analytics.as(user).getSummary({});
    expect(summary.highestTransactionDay).toMatchObject({ date: "2026-04-02", total: "47.00" });
    const stats = await admin.getStats({ fromDate: "2026-04-01", toDate: "2026-04-02" });
    expect(stats.byType.map((t) => [t.type, t.count, t.amount])).toEqual([
      ["top_up", 1n, "100.00"],
      ["withdrawal", 1n, "30.00"],
      ["purchase", 2n, "87.00"],
    ]);
    expect(stats.byProvider.map((p) => [p.provider, p.count, p.amount])).toEqual([
      ["paypal", 1n, "47.00"],
      ["visa", 2n, "140.00"],
      ["wire", 1n, "30.00"],
    ]);

    // The same file for the same user again: reported as a duplicate with nothing imported, nothing counted twice.
    const again = await admin.createImport({ csv: CSV, userId: user, timezone: "Asia/Kuala_Lumpur" });
    expect(await finished(analytics, again.importId)).toMatchObject({
      status: "completed",
      rowsImported: 0n,
      duplicateOf: importId,
    });
    // A later, different file: once its row is counted, anything before it in the stream has been too.
    const marker = await admin.createImport({
      csv: "timestamp,type,provider,amount\n2026-04-03T00:00:00Z,deposit,visa,1.00\n",
      userId: user,
    });
    await finished(analytics, marker.importId);
    await analytics.settled(IMPORTS, inbox + 5);
    expect((await analytics.as(user).getSpending({})).total).toBe("87.00");
    const after = await admin.getStats({ fromDate: "2026-04-01", toDate: "2026-04-02" });
    expect(after.count).toBe(stats.count);
  });

  test("a file without a required column is refused at once, naming what it has and what it needs", async ({
    analytics,
  }) => {
    const admin = analytics.as("admin-1", ["user", "admin"]);
    const before = await analytics.pool.query("SELECT count(*)::int AS n FROM imports");
    const err = await expectRefusal(
      admin.createImport({ csv: "timestamp,type,amount\n2026-04-01T08:00:00Z,deposit,1.00\n" }),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
      { field: "csv", column: "provider" },
    );
    expect(err.rawMessage).toContain("found timestamp, type, amount; expected");
    expect((await analytics.pool.query("SELECT count(*)::int AS n FROM imports")).rows).toEqual(before.rows);
  });

  test("an unknown import is NOT_FOUND and a bad request is refused", async ({ analytics }) => {
    const admin = analytics.as("admin-1", ["user", "admin"]);
    await expectRefusal(admin.getImport({ id: randomUUID() }), Code.NotFound, "NOT_FOUND");
    await expectRefusal(admin.createImport({ csv: " " }), Code.InvalidArgument, "VALIDATION_ERROR", {
      field: "csv",
    });
    await expectRefusal(
      admin.createImport({ csv: "a", timezone: "Mars/Base" }),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
      {
        field: "timezone",
      },
    );
  });

  test("an import for a user_id that is not a user is refused naming user_id, and nothing is stored", async ({
    analytics,
  }) => {
    const admin = analytics.as("admin-1", ["user", "admin"]);
    const csv = "timestamp,type,provider,amount\n2026-04-01T08:00:00Z,deposit,visa,1.00\n";
    const before = await analytics.pool.query("SELECT count(*)::int AS n FROM imports");
    await expectRefusal(
      admin.createImport({ csv, userId: `u-${randomUUID()}` }),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
      { field: "user_id" },
    );
    expect((await analytics.pool.query("SELECT count(*)::int AS n FROM imports")).rows).toEqual(before.rows);
    // The same file for a known user, or for nobody in particular (platform statistics only), is accepted.
    const known = `u-${randomUUID()}`;
    analytics.users.add(known);
    expect((await admin.createImport({ csv, userId: known })).importId).not.toBe("");
    expect((await admin.createImport({ csv })).importId).not.toBe("");
  });

  test("replaying a two-minute file at speed 60 takes about two seconds", async ({ analytics }) => {
    const admin = analytics.as("admin-1", ["user", "admin"]);
    const start = Date.UTC(2026, 4, 1, 9);
    const lines = ["timestamp,type,provider,amount"];
    for (let s = 0; s <= 120; s += 10) {
      lines.push(`${new Date(start + s * 1000).toISOString()},purchase,visa,1.00`);
    }
    const began = performance.now();
    const { importId } = await admin.createImport({ csv: lines.join("\n"), replay: true, speed: 60 });
    const job = await finished(analytics, importId);
    const seconds = (performance.now() - began) / 1000;
    expect(job).toMatchObject({ status: "completed", rowsImported: 13n, replay: true, speed: 60 });
    expect(seconds).toBeGreaterThan(1.5);
    expect(seconds).toBeLessThan(4);
  });
});
