import { RuleMode } from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import { waitFor } from "@fintech/testing";
import { describe, expect } from "vitest";
import type { ErrorBody, Platform, TestUser, Transaction } from "./test/harness.js";
import { balanceOf, defaultWallet, fund, PASSWORD, platformTest } from "./test/harness.js";

// docs/api.md's business rules for purchases, top-ups and withdrawals, through the gateway against the real
// services. Fraud runs in shadow mode here (scores recorded, always approve): its rules are fraud.test.ts's.
const test = platformTest({ fraudRules: { mode: RuleMode.SHADOW } });

/** POST /transactions with exactly `body`. */
const pay = (p: Platform, user: TestUser, body: Record<string, unknown>) =>
  p.api<Transaction & ErrorBody>("POST", "/api/v1/transactions", { token: user.token, json: body });

const buy = (
  p: Platform,
  user: TestUser,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
) =>
  p.api<Transaction & ErrorBody>("POST", "/api/v1/transactions", {
    token: user.token,
    json: {
      merchant_name: "Kedai Kopi",
      merchant_category: "food_beverage",
      transaction_type: "purchase",
      ...body,
    },
    headers,
  });

describe("payments", () => {
  test("a purchase debits the paying wallet and completes with its fraud score", async ({ platform: p }) => {
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    await fund(p, ana, w.id, "200.00");
    const res = await buy(p, ana, { amount: "45.50", currency: "MYR" });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      user_id: ana.id,
      wallet_id: w.id,
      amount: "45.50",
      currency: "MYR",
      merchant_name: "Kedai Kopi",
      merchant_category: "food_beverage",
      transaction_type: "purchase",
      status: "completed",
      fraud_score: expect.any(Number),
      fraud_flags: expect.any(Array),
      refunded_amount: "0.00",
      fraud_decision: "approve",
    });
    expect(res.body.created_at).toMatch(/Z$/);
    expect((await balanceOf(p, ana, w.id)).available).toBe("154.50");
    const got = await p.api<Transaction>("GET", `/api/v1/transactions/${res.body.transaction_id}`, {
      token: ana.token,
    });
    expect(got.body).toMatchObject({ transaction_id: res.body.transaction_id, status: "completed" });
  });

  test("amounts: at least the smallest unit, no more decimals than the currency has, a JSON number accepted", async ({
    platform: p,
  }) => {
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    await fund(p, ana, w.id, "10.00");
    for (const amount of ["0", "0.00", "-1.00", "0.001", "ten", ""]) {
      const res = await buy(p, ana, { amount, currency: "MYR" });
      expect(res.status, amount).toBe(400);
      expect(res.body).toMatchObject({ error: "VALIDATION_ERROR", details: { field: "amount" } });
    }
    expect((await buy(p, ana, { amount: "0.01", currency: "MYR" })).status).toBe(201);
    const number = await p.api<Transaction>("POST", "/api/v1/transactions", {
      token: ana.token,
      json: {
        amount: 1.25,
        currency: "MYR",
        merchant_name: "X",
        merchant_category: "other",
        transaction_type: "purchase",
      },
    });
    expect(number.status).toBe(201);
    expect(number.body.amount).toBe("1.25");
    // No mass assignment: a client cannot set the status or the score.
    const forged = await buy(p, ana, { amount: "1.00", currency: "MYR", status: "completed" });
    expect(forged.status).toBe(400);
    expect(forged.body.details).toMatchObject({ field: "status" });
  });

  test("at most 50,000 MYR equivalent per transaction", async ({ platform: p }) => {
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    const over = await p.api<ErrorBody>("POST", `/api/v1/wallets/${w.id}/fund`, {
      token: ana.token,
      json: { amount: "50000.01" },
    });
    expect(over.status).toBe(422);
    expect(over.body).toMatchObject({
      error: "LIMIT_EXCEEDED",
      details: { kind: "per_transaction", limit: "50000.00", requested: "50000.01", currency: "MYR" },
    });
    await fund(p, ana, w.id, "50000.00");
    // 10,638.30 USD = 50,000.01 MYR at 4.70.
    const usd = await buy(p, ana, { amount: "10638.30", currency: "USD" });
    expect(usd.status).toBe(422);
    expect(usd.body).toMatchObject({ error: "LIMIT_EXCEEDED", details: { requested: "50000.01" } });
    expect((await buy(p, ana, { amount: "10638.29", currency: "USD" })).status).toBe(201);
  });

  test("a daily limit of 100,000 MYR per calendar day in the user's time zone", async ({ platform: p }) => {
    const ana = await p.signup({ timezone: "Asia/Kuala_Lumpur" });
    const w = await defaultWallet(p, ana);
    for (let i = 0; i < 4; i++) await fund(p, ana, w.id, "50000.00");
    // 23:58 in Kuala Lumpur (UTC+8) on 2 March.
    p.clock.set("2026-03-02T15:58:00Z");
    expect((await buy(p, ana, { amount: "50000.00", currency: "MYR" })).status).toBe(201);
    const out = await p.api<Transaction>("POST", `/api/v1/wallets/${w.id}/withdraw`, {
      token: ana.token,
      json: { amount: "49999.99" },
    });
    expect(out.body).toMatchObject({ transaction_type: "withdrawal", status: "completed" });
    const refused = await buy(p, ana, { amount: "0.02", currency: "MYR" });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({
      error: "LIMIT_EXCEEDED",
      details: { kind: "daily", limit: "100000.00", used: "99999.99", requested: "0.02", currency: "MYR" },
    });
    expect((await buy(p, ana, { amount: "0.01", currency: "MYR" })).status).toBe(201);
    // Top-ups never count, and a refused purchase left nothing behind.
    await fund(p, ana, w.id, "10.00");
    expect((await buy(p, ana, { amount: "0.01", currency: "MYR" })).status).toBe(422);
    // 00:01 on 3 March in Kuala Lumpur, still 2 March in UTC: a new day for this user.
    p.clock.set("2026-03-02T16:01:00Z");
    expect((await buy(p, ana, { amount: "50000.00", currency: "MYR" })).status).toBe(201);
    p.clock.set("2026-03-02T04:00:00Z");
  });

  test("only active users move money; a suspended user is refused until reactivated", async ({
    platform: p,
  }) => {
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    await fund(p, ana, w.id, "20.00");
    const admin = await p.admin();
    const suspend = await p.api("PATCH", `/api/v1/users/${ana.id}/status`, {
      token: admin.token,
      json: { status: "suspended" },
    });
    expect(suspend.status).toBe(200);
    // Probed with more than the balance, so that no attempt moves money before the suspension arrives. The
    // suspended user's token itself no longer authorizes anything.
    const refused = await waitFor(async () => {
      const res = await buy(p, ana, { amount: "1000.00", currency: "MYR" });
      return res.status === 401 ? res : undefined;
    });
    expect(refused.body).toMatchObject({ error: "UNAUTHENTICATED" });
    const fundRefused = await p.api<ErrorBody>("POST", `/api/v1/wallets/${w.id}/fund`, {
      token: ana.token,
      json: { amount: "1.00" },
    });
    expect(fundRefused.status).toBe(401);
    await p.api("PATCH", `/api/v1/users/${ana.id}/status`, {
      token: admin.token,
      json: { status: "active" },
    });
    // Tokens issued before the suspension stay revoked: the reactivated user logs in again.
    expect((await buy(p, ana, { amount: "1.00", currency: "MYR" })).status).toBe(401);
    // A token's iat is whole seconds: one issued in the second of the suspension counts as older, so log in
    // until the new token is accepted.
    const again = await waitFor(async () => {
      const login = await p.api<{ access_token: string }>("POST", "/api/v1/auth/login", {
        json: { email: ana.email, password: PASSWORD },
      });
      const user = { ...ana, token: login.body.access_token };
      return (await buy(p, user, { amount: "1.00", currency: "MYR" })).status === 201 ? user : undefined;
    });
    expect((await balanceOf(p, again, w.id)).available).toBe("19.00");
  });

  test("supported currencies only", async ({ platform: p }) => {
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    await fund(p, ana, w.id, "20.00");
    const jpy = await buy(p, ana, { amount: "100", currency: "JPY" });
    expect(jpy.status).toBe(422);
    expect(jpy.body).toMatchObject({
      error: "CURRENCY_NOT_SUPPORTED",
      details: { field: "currency", currency: "JPY" },
    });
    const bad = await buy(p, ana, { amount: "1.00", currency: "ABC" });
    expect(bad.status).toBe(400);
    expect(bad.body.details).toMatchObject({ field: "currency" });
  });

  test("a purchase in another currency is charged to the wallet in its own currency at the current rate", async ({
    platform: p,
  }) => {
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    await fund(p, ana, w.id, "100.00");
    const res = await buy(p, ana, { amount: "10.00", currency: "USD", wallet_id: w.id });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      amount: "10.00",
      currency: "USD",
      charged_amount: "47.00",
      charged_currency: "MYR",
      rate: "4.7",
      base_amount: "47.00",
      wallet_id: w.id,
      status: "completed",
    });
    expect((await balanceOf(p, ana, w.id)).available).toBe("53.00");
  });

  test("without wallet_id: the wallet in the purchase currency pays, else the default wallet with conversion", async ({
    platform: p,
  }) => {
    const ana = await p.signup();
    const myr = await defaultWallet(p, ana);
    await fund(p, ana, myr.id, "100.00");
    const created = await p.api<{ id: string; currency: string; is_default: boolean }>(
      "POST",
      "/api/v1/wallets",
      {
        token: ana.token,
        json: { currency: "SGD" },
      },
    );
    expect(created.status).toBe(201);
    const sgd = created.body.id;
    await fund(p, ana, sgd, "10.00");
    const inSgd = await buy(p, ana, { amount: "4.00", currency: "SGD" });
    expect(inSgd.body).toMatchObject({
      wallet_id: sgd,
      charged_amount: "4.00",
      charged_currency: "SGD",
    });
    // No conversion, so no rate: left out of the REST body (docs/api.md, Money).
    expect(inSgd.body).not.toHaveProperty("rate");
    const inUsd = await buy(p, ana, { amount: "1.00", currency: "USD" });
    expect(inUsd.body).toMatchObject({ wallet_id: myr.id, charged_amount: "4.70", charged_currency: "MYR" });
    expect((await balanceOf(p, ana, sgd)).available).toBe("6.00");
    expect((await balanceOf(p, ana, myr.id)).available).toBe("95.30");
  });

  test("insufficient balance: 422 with the available and requested amounts; the transaction stays as failed", async ({
    platform: p,
  }) => {
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    await fund(p, ana, w.id, "10.00");
    const res = await buy(p, ana, { amount: "10.01", currency: "MYR" });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({
      error: "INSUFFICIENT_BALANCE",
      details: { wallet_id: w.id, available: "10.00", requested: "10.01", currency: "MYR" },
    });
    const failed = await p.api<Transaction>(
      "GET",
      `/api/v1/transactions/${res.body.details.transaction_id}`,
      {
        token: ana.token,
      },
    );
    expect(failed.body).toMatchObject({ status: "failed", failure_reason: "INSUFFICIENT_BALANCE" });
    expect((await balanceOf(p, ana, w.id)).available).toBe("10.00");
  });

  test("top-ups and withdrawals through POST /transactions; withdrawals are scored", async ({
    platform: p,
  }) => {
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    const top = await pay(p, ana, { amount: "30.00", currency: "MYR", transaction_type: "top_up" });
    expect(top.body).toMatchObject({ transaction_type: "top_up", status: "completed", fraud_decision: "" });
    const out = await pay(p, ana, { amount: "12.00", currency: "MYR", transaction_type: "withdrawal" });
    expect(out.body).toMatchObject({
      transaction_type: "withdrawal",
      status: "completed",
      fraud_decision: "approve",
    });
    expect((await balanceOf(p, ana, w.id)).available).toBe("18.00");
    for (const type of ["conversion", "transfer", "refund", "payout"]) {
      const refused = await pay(p, ana, { amount: "1.00", currency: "MYR", transaction_type: type });
      expect(refused.status).toBe(400);
      expect(refused.body.details).toMatchObject({ field: "transaction_type" });
      // Only what this route takes is offered.
      expect(refused.body.message).toContain("purchase, top_up, withdrawal");
      expect(refused.body.message).not.toMatch(/conversion|refund|transfer,/);
    }
  });

  test("merchant fields on a top-up or withdrawal are refused by name, never turned into a provider", async ({
    platform: p,
  }) => {
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    const top = await pay(p, ana, {
      amount: "30.00",
      currency: "MYR",
      transaction_type: "top_up",
      merchant_name: "m",
    });
    expect(top.status).toBe(400);
    expect(top.body).toMatchObject({ error: "VALIDATION_ERROR", details: { field: "merchant_name" } });
    const out = await pay(p, ana, {
      amount: "1.00",
      currency: "MYR",
      transaction_type: "withdrawal",
      merchant_category: "food_beverage",
    });
    expect(out.status).toBe(400);
    expect(out.body).toMatchObject({ error: "VALIDATION_ERROR", details: { field: "merchant_category" } });
    expect((await balanceOf(p, ana, w.id)).available).toBe("0.00");
  });

  test("the books balance: wallets and system accounts sum to zero per currency", async ({ platform: p }) => {
    await p.expectBooksBalance();
  });
});
