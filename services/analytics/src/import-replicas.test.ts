import { randomUUID } from "node:crypto";
import { waitFor } from "@fintech/testing";
import pino from "pino";
import { describe, expect } from "vitest";
import type { ImportService } from "./import-service.js";
import { createImportService } from "./import-service.js";
import { staticRates } from "./rates.js";
import type { AnalyticsHarness } from "./test/harness.js";
import { analyticsTest } from "./test/harness.js";
import { realTimer } from "./timer.js";

const test = analyticsTest();
const IMPORTS = "analytics-imports";

/** The import runner of another replica of the service over the same schema and stream. */
function otherReplica(h: AnalyticsHarness): ImportService {
  return createImportService({
    pool: h.pool,
    nc: h.nc,
    namespace: h.namespace,
    clock: h.clock,
    timer: realTimer,
    rates: staticRates([], "MYR"),
    users: { exists: async () => true },
    logger: pino({ level: "silent" }),
    settings: { baseCurrency: "MYR", maxErrors: 1000 },
  });
}

/** `rows` purchases of 1.00 a minute apart, replayed at 600 times: a tenth of a second a row. */
function slowImport(rows: number): string {
  const start = Date.UTC(2026, 5, 1, 9);
  const lines = ["timestamp,type,provider,amount,merchant_category"];
  for (let i = 0; i < rows; i++) {
    lines.push(`${new Date(start + i * 60_000).toISOString()},purchase,visa,1.00,groceries`);
  }
  return lines.join("\n");
}

describe("imports with two replicas", () => {
  test("an import runs on one replica; when it stops, the other takes it over at once and counts each row once", async ({
    analytics,
  }) => {
    const admin = analytics.as("admin-1", ["user", "admin"]);
    const user = `u-${randomUUID()}`;
    analytics.users.add(user);
    const other = otherReplica(analytics);
    const inbox = await analytics.inbox(IMPORTS);
    const { importId } = await admin.createImport({
      csv: slowImport(30),
      userId: user,
      replay: true,
      speed: 600,
    });
    try {
      // The replica that stored it runs it: the other finds nothing to take over.
      expect(await other.resume()).toBe(0);
      await waitFor(async () => ((await admin.getImport({ id: importId })).job?.rowsProcessed ?? 0n) > 0n);
      await analytics.app.imports.stop();
      expect(await other.resume()).toBe(1);
      await other.idle();
      expect((await admin.getImport({ id: importId })).job).toMatchObject({
        status: "completed",
        rowsImported: 30n,
        rowsFailed: 0n,
      });
      await analytics.settled(IMPORTS, inbox + 30);
      expect(await analytics.inbox(IMPORTS)).toBe(inbox + 30);
      expect((await analytics.as(user).getSpending({})).total).toBe("30.00");
      expect(await other.resume()).toBe(0);
    } finally {
      await other.stop();
    }
  });

  test("when the runner's lock connection dies, it stops and the other replica takes the import over", async ({
    analytics,
  }) => {
    const admin = analytics.as("admin-1", ["user", "admin"]);
    const user = `u-${randomUUID()}`;
    analytics.users.add(user);
    const other = otherReplica(analytics);
    const inbox = await analytics.inbox(IMPORTS);
    const { importId } = await admin.createImport({
      csv: slowImport(30),
      userId: user,
      replay: true,
      speed: 600,
    });
    try {
      expect(await other.resume()).toBe(0);
      // What a runner whose connection breaks (or whose host vanishes) leaves: Postgres ends its session.
      const { rows } = await analytics.pool.query<{ ended: boolean }>(
        `SELECT pg_terminate_backend(pid) AS ended FROM pg_locks
          WHERE locktype = 'advisory' AND granted AND objsubid = 2
            AND classid = hashtext(current_schema())::oid AND objid = hashtext($1)::oid`,
        [`analytics.import:${importId}`],
      );
      expect(rows).toEqual([{ ended: true }]);
      // The runner learns it lost the lock and stops, leaving the import running for another replica.
      await analytics.app.imports.idle();
      expect((await admin.getImport({ id: importId })).job?.status).toBe("running");
      expect(await other.resume()).toBe(1);
      await other.idle();
      expect((await admin.getImport({ id: importId })).job).toMatchObject({
        status: "completed",
        rowsImported: 30n,
      });
      await analytics.settled(IMPORTS, inbox + 30);
      expect(await analytics.inbox(IMPORTS)).toBe(inbox + 30);
      expect((await analytics.as(user).getSpending({})).total).toBe("30.00");
    } finally {
      await other.stop();
    }
  });
});
