import { RuleMode } from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import { register } from "prom-client";
import { describe, expect } from "vitest";
import type { Platform } from "./test/harness.js";
import { balanceOf, defaultWallet, fund, platformTest } from "./test/harness.js";

// Two wallet replicas over one schema run the recovery pass at once: each unfinished transaction is taken over by
// one of them, and its money moves once.
const test = platformTest({ fraudRules: { mode: RuleMode.SHADOW } });

async function recovered(): Promise<number> {
  const metric = await register.getSingleMetric("wallet_recovered_transactions_total")?.get();
  return (metric?.values ?? []).reduce((n, v) => n + v.value, 0);
}

async function statuses(p: Platform, userId: string): Promise<string[]> {
  const { rows } = await p.pool.query<{ status: string }>(
    "SELECT status FROM transactions WHERE user_id = $1 ORDER BY created_at, id",
    [userId],
  );
  return rows.map((r) => r.status);
}

describe("the recovery pass on two replicas", () => {
  test("takes each unfinished transaction over once between them", async ({ platform: p }) => {
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    await fund(p, ana, w.id, "100.00");
    // The ledger is away: ten top-ups are recorded and left pending for recovery.
    p.ledgerDown = true;
    try {
      for (let i = 0; i < 10; i++) {
        await p.api("POST", `/api/v1/wallets/${w.id}/fund`, {
          token: ana.token,
          json: { amount: `${i + 1}.00`, source: "visa" },
          headers: { "idempotency-key": `recovery-${i}` },
        });
      }
    } finally {
      p.ledgerDown = false;
    }
    expect(await statuses(p, ana.id)).toEqual(["completed", ...Array.from({ length: 10 }, () => "pending")]);
    // Their requests' replica is gone: the leases run out.
    await p.pool.query(
      "UPDATE transactions SET lease_until = '2000-01-01T00:00:00Z' WHERE status = 'pending'",
    );

    const replica = p.walletReplica();
    const before = await recovered();
    await Promise.all([p.wallet.maintain(), replica.maintain(), p.wallet.maintain(), replica.maintain()]);
    expect(await recovered()).toBe(before + 10);
    expect(await statuses(p, ana.id)).toEqual(Array.from({ length: 11 }, () => "completed"));
    const { data } = await p.ledger.listAccountTransfers({ accountId: w.id, limit: 1000 });
    expect(data).toHaveLength(11);
    expect((await balanceOf(p, ana, w.id)).available).toBe("155.00");
    await p.expectBooksBalance();
  });
});
