import { RuleMode } from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import { describe, expect } from "vitest";
import type { ErrorBody, Platform, TestUser, Transaction } from "./test/harness.js";
import { balanceOf, defaultWallet, fund, platformTest } from "./test/harness.js";

// Refunds (full, partial, many partials up to the original, never above) and admin reversals. Fraud scores in
// shadow mode: it holds no payment here.
const test = platformTest({ fraudRules: { mode: RuleMode.SHADOW } });

async function purchase(p: Platform, user: TestUser, amount: string, currency = "MYR"): Promise<Transaction> {
  const res = await p.api<Transaction>("POST", "/api/v1/transactions", {
    token: user.token,
    json: {
      amount,
      currency,
      merchant_name: "Toko",
      merchant_category: "shopping",
      transaction_type: "purchase",
    },
  });
  expect(res.status).toBe(201);
  return res.body;
}

const refund = (p: Platform, user: TestUser, id: string, body: Record<string, unknown> = {}) =>
  p.api<Transaction & ErrorBody>("POST", `/api/v1/transactions/${id}/refund`, {
    token: user.token,
    json: body,
  });

describe("refunds", () => {
  test("partial refunds up to the original amount, then one more is refused; the balance is restored at once", async ({
    platform: p,
  }) => {
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    await fund(p, ana, w.id, "100.00");
    const bought = await purchase(p, ana, "60.00");
    expect((await balanceOf(p, ana, w.id)).available).toBe("40.00");
    for (const [amount, refunded, available] of [
      ["10.00", "10.00", "50.00"],
      ["25.50", "35.50", "75.50"],
      ["24.50", "60.00", "100.00"],
    ] as const) {
      const res = await refund(p, ana, bought.transaction_id, { amount, reason: "returned" });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        transaction_type: "refund",
        status: "completed",
        amount,
        original_transaction_id: bought.transaction_id,
        wallet_id: w.id,
      });
      const original = await p.api<Transaction>("GET", `/api/v1/transactions/${bought.transaction_id}`, {
        token: ana.token,
      });
      expect(original.body).toMatchObject({ status: "completed", refunded_amount: refunded });
      expect((await balanceOf(p, ana, w.id)).available).toBe(available);
    }
    const more = await refund(p, ana, bought.transaction_id, { amount: "0.01" });
    expect(more.status).toBe(422);
    expect(more.body).toMatchObject({ error: "REFUND_NOT_ALLOWED", details: { reason: "fully_refunded" } });
  });

  test("a refund above what is left is refused; without an amount the rest is refunded", async ({
    platform: p,
  }) => {
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    await fund(p, ana, w.id, "50.00");
    const bought = await purchase(p, ana, "20.00");
    expect((await refund(p, ana, bought.transaction_id, { amount: "5.00" })).status).toBe(201);
    const over = await refund(p, ana, bought.transaction_id, { amount: "15.01" });
    expect(over.status).toBe(422);
    expect(over.body).toMatchObject({ error: "REFUND_NOT_ALLOWED", details: { refundable: "15.00" } });
    const rest = await refund(p, ana, bought.transaction_id);
    expect(rest.body).toMatchObject({ status: "completed", amount: "15.00" });
    expect((await balanceOf(p, ana, w.id)).available).toBe("50.00");
  });

  test("parallel refunds never add up to more than the purchase", async ({ platform: p }) => {
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    await fund(p, ana, w.id, "10.00");
    const bought = await purchase(p, ana, "10.00");
    const results = await Promise.all(
      Array.from({ length: 12 }, () => refund(p, ana, bought.transaction_id, { amount: "1.00" })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(10);
    expect(results.filter((r) => r.status === 422)).toHaveLength(2);
    expect((await balanceOf(p, ana, w.id)).available).toBe("10.00");
  });

  test("a purchase in another currency is refunded at its own rate: the full series gives back exactly the charge", async ({
    platform: p,
  }) => {
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    await fund(p, ana, w.id, "100.00");
    // 3.33 USD = 15.651 MYR -> 15.65 charged.
    const bought = await purchase(p, ana, "3.33", "USD");
    expect(bought).toMatchObject({ charged_amount: "15.65", charged_currency: "MYR" });
    const shares: string[] = [];
    for (const amount of ["1.11", "1.11", "1.11"]) {
      const res = await refund(p, ana, bought.transaction_id, { amount });
      expect(res.body).toMatchObject({ amount, currency: "USD", charged_currency: "MYR" });
      shares.push(res.body.charged_amount);
    }
    expect(shares.reduce((sum, s) => sum + Math.round(Number(s) * 100), 0)).toBe(1565);
    expect((await balanceOf(p, ana, w.id)).available).toBe("100.00");
  });

  test("only completed purchases are refunded", async ({ platform: p }) => {
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    const top = await fund(p, ana, w.id, "5.00");
    const res = await refund(p, ana, top.transaction_id);
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error: "REFUND_NOT_ALLOWED", details: { reason: "not_a_purchase" } });
    const other = await p.signup();
    expect((await refund(p, other, top.transaction_id)).status).toBe(404);
  });

  test("admin reversal: users are forbidden; a reversed transfer gives the money back once", async ({
    platform: p,
  }) => {
    const ana = await p.signup();
    const ben = await p.signup();
    const a = await defaultWallet(p, ana);
    const b = await defaultWallet(p, ben);
    await fund(p, ana, a.id, "30.00");
    const sent = await p.api<Transaction>("POST", "/api/v1/transfers", {
      token: ana.token,
      json: { from_wallet_id: a.id, to_wallet_id: b.id, amount: "20.00" },
    });
    expect(sent.status).toBe(201);
    const path = `/api/v1/transactions/${sent.body.transaction_id}/reverse`;
    const forbidden = await p.api<ErrorBody>("POST", path, { token: ana.token, json: { reason: "mine" } });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error).toBe("FORBIDDEN");
    const admin = await p.admin();
    const noReason = await p.api<ErrorBody>("POST", path, { token: admin.token, json: {} });
    expect(noReason.status).toBe(400);
    const reversed = await p.api<Transaction>("POST", path, {
      token: admin.token,
      json: { reason: "dispute" },
    });
    expect(reversed.status).toBe(200);
    expect(reversed.body).toMatchObject({ status: "reversed", transaction_type: "transfer" });
    expect((await balanceOf(p, ana, a.id)).available).toBe("30.00");
    expect((await balanceOf(p, ben, b.id)).available).toBe("0.00");
    const incoming = await p.api<Transaction>(
      "GET",
      `/api/v1/transactions/${sent.body.related_transaction_id}`,
      {
        token: ben.token,
      },
    );
    expect(incoming.body.status).toBe("reversed");
    const again = await p.api<ErrorBody>("POST", path, { token: admin.token, json: { reason: "dispute" } });
    expect(again.status).toBe(409);
    expect(again.body.error).toBe("CONFLICT");
  });

  test("a reversal the receiver can no longer cover is refused with INSUFFICIENT_BALANCE", async ({
    platform: p,
  }) => {
    const ana = await p.signup();
    const ben = await p.signup();
    const a = await defaultWallet(p, ana);
    const b = await defaultWallet(p, ben);
    await fund(p, ana, a.id, "10.00");
    const sent = await p.api<Transaction>("POST", "/api/v1/transfers", {
      token: ana.token,
      json: { from_wallet_id: a.id, to_wallet_id: b.id, amount: "10.00" },
    });
    await purchase(p, ben, "9.00");
    const admin = await p.admin();
    const res = await p.api<ErrorBody>("POST", `/api/v1/transactions/${sent.body.transaction_id}/reverse`, {
      token: admin.token,
      json: { reason: "dispute" },
    });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({
      error: "INSUFFICIENT_BALANCE",
      details: { wallet_id: b.id, available: "1.00" },
    });
    const still = await p.api<Transaction>("GET", `/api/v1/transactions/${sent.body.transaction_id}`, {
      token: ana.token,
    });
    expect(still.body.status).toBe("completed");
  });

  test("a reversed purchase frees its share of the daily limit; a refunded one cannot be reversed", async ({
    platform: p,
  }) => {
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    await fund(p, ana, w.id, "50000.00");
    await fund(p, ana, w.id, "50000.00");
    await fund(p, ana, w.id, "50000.00");
    const big = await purchase(p, ana, "50000.00");
    await purchase(p, ana, "50000.00");
    const admin = await p.admin();
    const reversed = await p.api<Transaction>("POST", `/api/v1/transactions/${big.transaction_id}/reverse`, {
      token: admin.token,
      json: { reason: "merchant fraud" },
    });
    expect(reversed.body.status).toBe("reversed");
    const small = await purchase(p, ana, "10.00");
    expect((await refund(p, ana, small.transaction_id, { amount: "1.00" })).status).toBe(201);
    const refused = await p.api<ErrorBody>("POST", `/api/v1/transactions/${small.transaction_id}/reverse`, {
      token: admin.token,
      json: { reason: "x" },
    });
    expect(refused.status).toBe(409);
  });

  test("the books balance: wallets and system accounts sum to zero per currency", async ({ platform: p }) => {
    await p.expectBooksBalance();
  });
});
