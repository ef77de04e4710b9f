import { createPool } from "@fintech/db";
import { TransferStatus } from "@fintech/proto/fintech/ledger/v1/ledger_pb.js";
import { waitFor } from "@fintech/testing";
import pino from "pino";
import { describe, expect } from "vitest";
import { createIntegrityChecker } from "./integrity.js";
import { ledgerMetrics } from "./metrics.js";
import type { LedgerHarness, NewTransferInit } from "./test/harness.js";
import { fund, ledgerTest, move, openAccount, publishedCount, startReplica } from "./test/harness.js";

// Replicas of one ledger over one schema: its background jobs must each do their work once between them.
const test = ledgerTest();

/** `n` pending MYR transfers of 1.00 from `a` to `b` that time out after `seconds`. */
async function pendings(h: LedgerHarness, n: number, seconds: number): Promise<NewTransferInit[]> {
  const a = await openAccount(h.client);
  const b = await openAccount(h.client);
  await fund(h.client, a, `${n}.00`);
  const transfers = Array.from({ length: n }, () =>
    move(a, b, "1.00", { flags: { pending: true }, timeoutSeconds: seconds }),
  );
  await h.client.createTransfers({ transfers });
  return transfers;
}

async function statuses(h: LedgerHarness, transfers: NewTransferInit[]): Promise<TransferStatus[]> {
  return Promise.all(
    transfers.map(
      async (t) =>
        (await h.client.getTransfer({ transferId: t.id ?? "" })).transfer?.status ??
        TransferStatus.UNSPECIFIED,
    ),
  );
}

const expired = (n: number) => Array.from({ length: n }, () => TransferStatus.EXPIRED);

describe("two replicas", () => {
  test("their sweepers void each timed-out pending transfer once, and one sweeps alone after the other stops", async ({
    ledger,
  }) => {
    const first = await startReplica(ledger, { LEDGER_EXPIRY_INTERVAL_MS: 20 });
    const second = await startReplica(ledger, { LEDGER_EXPIRY_INTERVAL_MS: 20 });
    let firstStopped = false;
    try {
      const before = await publishedCount(ledger, "ledger.transfer.expired");
      const early = await pendings(ledger, 30, 5);
      // Both schedules run all along; by hand as well, at once on both replicas.
      ledger.clock.advance(5_000);
      const voided = await Promise.all([first.app.sweeper.runOnce(), second.app.sweeper.runOnce()]);
      await waitFor(async () => (await statuses(ledger, early)).every((s) => s === TransferStatus.EXPIRED));
      expect(await statuses(ledger, early)).toEqual(expired(30));
      expect(voided.reduce((n, v) => n + v, 0)).toBeLessThanOrEqual(30);
      expect(await publishedCount(ledger, "ledger.transfer.expired")).toBe(before + 30);

      await first.stop();
      firstStopped = true;
      const late = await pendings(ledger, 10, 5);
      ledger.clock.advance(5_000);
      await waitFor(async () => (await statuses(ledger, late)).every((s) => s === TransferStatus.EXPIRED));
      expect(await publishedCount(ledger, "ledger.transfer.expired")).toBe(before + 40);
      expect((await ledger.client.checkIntegrity({})).ok).toBe(true);
    } finally {
      await Promise.all([firstStopped ? undefined : first.stop(), second.stop()]);
    }
  });

  test("the scheduled integrity check runs once per interval between them, and the survivor keeps the schedule", async ({
    ledger,
  }) => {
    const replicaPool = createPool({ url: ledger.databaseUrl, schema: ledger.schema, max: 3 });
    const checker = (pool: typeof replicaPool) =>
      createIntegrityChecker({
        pool,
        clock: ledger.clock,
        logger: pino({ level: "silent" }),
        metrics: ledgerMetrics(),
        intervalSeconds: 3600,
      });
    const one = checker(ledger.pool);
    const two = checker(replicaPool);
    const account = await openAccount(ledger.client, { limited: false });
    await fund(ledger.client, account, "1.00");
    // A corrupted balance: every check that runs publishes a violation.
    await ledger.pool.query("UPDATE accounts SET credits_posted = credits_posted + 1 WHERE id = $1", [
      account.id,
    ]);
    try {
      const before = await publishedCount(ledger, "ledger.integrity.violated");
      const runs = await Promise.all([
        one.runScheduled(),
        two.runScheduled(),
        one.runScheduled(),
        two.runScheduled(),
      ]);
      const ran = runs.filter((r) => r !== undefined);
      expect(ran).toHaveLength(1);
      expect(ran[0]?.ok).toBe(false);
      expect(await publishedCount(ledger, "ledger.integrity.violated")).toBe(before + 1);

      ledger.clock.advance(3_599_000);
      expect(await Promise.all([one.runScheduled(), two.runScheduled()])).toEqual([undefined, undefined]);
      // The first replica is gone: an hour after the last check, the second runs the next one.
      ledger.clock.advance(1_000);
      expect((await two.runScheduled())?.ok).toBe(false);
      expect(await publishedCount(ledger, "ledger.integrity.violated")).toBe(before + 2);
    } finally {
      await ledger.pool.query("UPDATE accounts SET credits_posted = credits_posted - 1 WHERE id = $1", [
        account.id,
      ]);
      await replicaPool.end();
    }
  });
});
