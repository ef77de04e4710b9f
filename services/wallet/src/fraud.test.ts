import { ReviewDecision, RuleMode } from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import { waitFor } from "@fintech/testing";
import { describe, expect } from "vitest";
import type { ErrorBody, Platform, TestUser, Transaction } from "./test/harness.js";
import { balanceOf, defaultWallet, fund, platformTest } from "./test/harness.js";

// Fraud with the real fraud service: approve posts, review holds the funds until an analyst decides
// (fraud.review.decided), decline refuses without moving money, and a fraud service that does not answer
// leaves the funds held until it does (FRAUD_UNAVAILABLE_POLICY=review, the default).
const test = platformTest({ walletEnv: { WALLET_RECOVERY_AFTER_MS: "1000" } });

const off = { enabled: false };
/** Only HIGH_VALUE counts: above 100.00 MYR it adds `points`. */
const highValueOnly = (points: number, autoDecline = false) => ({
  mode: RuleMode.ENFORCE,
  reviewThreshold: 60,
  autoDeclineThreshold: 90,
  autoDeclineEnabled: autoDecline,
  highVelocity: off,
  suspiciousVelocity: off,
  unusualAmount: off,
  offHours: off,
  possibleDuplicate: off,
  highValue: { enabled: true, points, threshold: "100.00" },
});

const buy = (p: Platform, user: TestUser, amount: string) =>
  p.api<Transaction & ErrorBody>("POST", "/api/v1/transactions", {
    token: user.token,
    json: {
      amount,
      currency: "MYR",
      merchant_name: "Jewels",
      merchant_category: "shopping",
      transaction_type: "purchase",
    },
  });

const settled = (p: Platform, user: TestUser, id: string) =>
  waitFor(
    async () => {
      const res = await p.api<Transaction>("GET", `/api/v1/transactions/${id}`, { token: user.token });
      return res.body.status === "pending" ? undefined : res.body;
    },
    { timeoutMs: 10_000 },
  );

async function decide(p: Platform, id: string, decision: ReviewDecision): Promise<void> {
  const fraud = await p.fraudAdmin();
  // The review case is opened by the Score call; the decision is taken once it is listed.
  await waitFor(async () => (await fraud.listReviews({})).data.some((r) => r.transactionId === id));
  await fraud.decideReview({ transactionId: id, decision, note: "checked" });
}

describe("fraud", () => {
  test("a score under the review threshold posts at once, with its score and flags", async ({
    platform: p,
  }) => {
    await p.rules(highValueOnly(40));
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    await fund(p, ana, w.id, "500.00");
    const res = await buy(p, ana, "150.00");
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      status: "completed",
      fraud_score: 40,
      fraud_flags: ["HIGH_VALUE"],
      fraud_decision: "approve",
    });
  });

  test("review: the funds are held (pending) until an analyst approves, then posted", async ({
    platform: p,
  }) => {
    await p.rules(highValueOnly(60));
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    await fund(p, ana, w.id, "500.00");
    const res = await buy(p, ana, "150.00");
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: "pending", fraud_score: 60, fraud_decision: "review" });
    expect(await balanceOf(p, ana, w.id)).toMatchObject({
      available: "350.00",
      pending: "150.00",
      posted: "500.00",
    });
    await decide(p, res.body.transaction_id, ReviewDecision.APPROVE);
    expect(await settled(p, ana, res.body.transaction_id)).toMatchObject({ status: "completed" });
    expect(await balanceOf(p, ana, w.id)).toMatchObject({
      available: "350.00",
      pending: "0.00",
      posted: "350.00",
    });
  });

  test("review rejected: the hold is voided, the transaction fails and the balance is whole again", async ({
    platform: p,
  }) => {
    await p.rules(highValueOnly(60));
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    await fund(p, ana, w.id, "500.00");
    const res = await p.api<Transaction>("POST", `/api/v1/wallets/${w.id}/withdraw`, {
      token: ana.token,
      json: { amount: "200.00", destination: "wire" },
    });
    expect(res.body).toMatchObject({ status: "pending", transaction_type: "withdrawal" });
    expect((await balanceOf(p, ana, w.id)).available).toBe("300.00");
    await decide(p, res.body.transaction_id, ReviewDecision.REJECT);
    expect(await settled(p, ana, res.body.transaction_id)).toMatchObject({
      status: "failed",
      failure_reason: "REVIEW_REJECTED",
    });
    expect(await balanceOf(p, ana, w.id)).toMatchObject({
      available: "500.00",
      pending: "0.00",
      posted: "500.00",
    });
  });

  test("a held transfer: the receiver sees it incoming, and gets it when approved", async ({
    platform: p,
  }) => {
    await p.rules(highValueOnly(60));
    const ana = await p.signup();
    const ben = await p.signup();
    const a = await defaultWallet(p, ana);
    const b = await defaultWallet(p, ben);
    await fund(p, ana, a.id, "500.00");
    const res = await p.api<Transaction>("POST", "/api/v1/transfers", {
      token: ana.token,
      json: { from_wallet_id: a.id, to_wallet_id: b.id, amount: "120.00" },
    });
    expect(res.body).toMatchObject({ status: "pending", fraud_decision: "review" });
    expect(await balanceOf(p, ben, b.id)).toMatchObject({ available: "0.00", incoming: "120.00" });
    await decide(p, res.body.transaction_id, ReviewDecision.APPROVE);
    await settled(p, ana, res.body.transaction_id);
    expect(await balanceOf(p, ben, b.id)).toMatchObject({ available: "120.00", incoming: "0.00" });
    const incoming = await p.api<Transaction>(
      "GET",
      `/api/v1/transactions/${res.body.related_transaction_id}`,
      {
        token: ben.token,
      },
    );
    expect(incoming.body.status).toBe("completed");
  });

  test("decline: refused with TRANSACTION_DECLINED, no money moves, the transaction shows as failed", async ({
    platform: p,
  }) => {
    await p.rules(highValueOnly(90, true));
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    await fund(p, ana, w.id, "500.00");
    const res = await buy(p, ana, "150.00");
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error: "TRANSACTION_DECLINED", details: { fraud_score: "90" } });
    const failed = await p.api<Transaction>(
      "GET",
      `/api/v1/transactions/${res.body.details.transaction_id}`,
      {
        token: ana.token,
      },
    );
    expect(failed.body).toMatchObject({
      status: "failed",
      failure_reason: "TRANSACTION_DECLINED",
      fraud_decision: "decline",
      fraud_flags: ["HIGH_VALUE"],
    });
    expect(await balanceOf(p, ana, w.id)).toMatchObject({ available: "500.00", pending: "0.00" });
  });

  test("fraud down: the funds are held unscored; once fraud answers again, recovery scores and posts", async ({
    platform: p,
  }) => {
    await p.rules(highValueOnly(40));
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    await fund(p, ana, w.id, "500.00");
    p.fraudDown = true;
    let id: string;
    try {
      const res = await buy(p, ana, "150.00");
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ status: "pending", fraud_decision: "unscored" });
      id = res.body.transaction_id;
      expect((await balanceOf(p, ana, w.id)).pending).toBe("150.00");
      // Past its lease, still down: a recovery pass leaves it held.
      p.clock.set(new Date(p.clock.now().getTime() + 1500));
      expect(await p.wallet.wallets.recoverOnce()).toBe(1);
      expect((await balanceOf(p, ana, w.id)).pending).toBe("150.00");
    } finally {
      p.fraudDown = false;
    }
    const done = await waitFor(
      async () => {
        p.clock.set(new Date(p.clock.now().getTime() + 1500));
        await p.wallet.maintain();
        const res = await p.api<Transaction>("GET", `/api/v1/transactions/${id}`, { token: ana.token });
        return res.body.status === "completed" ? res.body : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 200 },
    );
    expect(done).toMatchObject({ fraud_decision: "approve", fraud_score: 40 });
    expect(await balanceOf(p, ana, w.id)).toMatchObject({ available: "350.00", pending: "0.00" });
  });

  test("the books balance: wallets and system accounts sum to zero per currency", async ({ platform: p }) => {
    await p.expectBooksBalance();
  });
});
