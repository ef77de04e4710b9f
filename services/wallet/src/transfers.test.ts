import { RuleMode } from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import { describe, expect } from "vitest";
import type { ErrorBody, Platform, TestUser, Transaction } from "./test/harness.js";
import { balanceOf, defaultWallet, fund, platformTest } from "./test/harness.js";

// Transfers between users and conversions between one's own wallets, through fx quotes with a spread of
// 50 basis points (so the spread's leg to revenue is exercised too). Fraud scores in shadow mode: it holds no
// payment here.
const test = platformTest({ fxEnv: { FX_SPREAD_BPS: "50" }, fraudRules: { mode: RuleMode.SHADOW } });

const send = (p: Platform, user: TestUser, body: Record<string, unknown>) =>
  p.api<Transaction & ErrorBody>("POST", "/api/v1/transfers", { token: user.token, json: body });

interface Quote {
  quote_id: string;
  from_amount: string;
  to_amount: string;
  spread_amount: string;
  rate: string;
  status: string;
}

describe("transfers and conversions", () => {
  test("a transfer between users: the sender's side and the receiver's own incoming side", async ({
    platform: p,
  }) => {
    const ana = await p.signup();
    const ben = await p.signup();
    const a = await defaultWallet(p, ana);
    const b = await defaultWallet(p, ben);
    await fund(p, ana, a.id, "100.00");
    const res = await send(p, ana, {
      from_wallet_id: a.id,
      to_wallet_id: b.id,
      amount: "25.00",
      description: "lunch",
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      transaction_type: "transfer",
      status: "completed",
      direction: "outgoing",
      user_id: ana.id,
      wallet_id: a.id,
      amount: "25.00",
      currency: "MYR",
      to_wallet_id: b.id,
      to_amount: "25.00",
      to_currency: "MYR",
      description: "lunch",
      fraud_decision: "approve",
    });
    expect((await balanceOf(p, ana, a.id)).available).toBe("75.00");
    expect((await balanceOf(p, ben, b.id)).available).toBe("25.00");

    const theirs = await p.api<{ data: Transaction[] }>(
      "GET",
      "/api/v1/transactions?transaction_type=transfer",
      {
        token: ben.token,
      },
    );
    expect(theirs.body.data).toHaveLength(1);
    expect(theirs.body.data[0]).toMatchObject({
      direction: "incoming",
      user_id: ben.id,
      wallet_id: b.id,
      amount: "25.00",
      status: "completed",
      related_transaction_id: res.body.transaction_id,
      fraud_decision: "",
    });
    // Each user reaches only their own side.
    const hidden = await p.api("GET", `/api/v1/transactions/${res.body.transaction_id}`, {
      token: ben.token,
    });
    expect(hidden.status).toBe(404);
  });

  test("across currencies the receiver gets exactly the quote's amount and the spread goes to revenue", async ({
    platform: p,
  }) => {
    const ana = await p.signup();
    const ben = await p.signup();
    const a = await defaultWallet(p, ana);
    await fund(p, ana, a.id, "500.00");
    const sgd = await p.api<{ id: string }>("POST", "/api/v1/wallets", {
      token: ben.token,
      json: { currency: "SGD" },
    });
    const res = await send(p, ana, {
      from_wallet_id: a.id,
      to_wallet_id: sgd.body.id,
      amount: "100.00",
      currency: "MYR",
    });
    expect(res.status).toBe(201);
    const quote = await p.api<Quote>("GET", `/api/v1/fx/quotes/${res.body.quote_id}`, { token: ana.token });
    expect(quote.body).toMatchObject({ from_amount: "100.00", status: "redeemed" });
    expect(res.body).toMatchObject({
      amount: "100.00",
      currency: "MYR",
      to_amount: quote.body.to_amount,
      to_currency: "SGD",
      rate: quote.body.rate,
      spread_amount: quote.body.spread_amount,
    });
    // MYR -> SGD at 1/3.5 less 0.5%: 28.43 SGD, the spread 28.57 - 28.43.
    expect(quote.body).toMatchObject({ to_amount: "28.43", spread_amount: "0.14" });
    expect((await balanceOf(p, ben, sgd.body.id)).available).toBe("28.43");
    expect((await balanceOf(p, ana, a.id)).available).toBe("400.00");
  });

  test("a conversion between one's own wallets posts both legs and the spread at the quote", async ({
    platform: p,
  }) => {
    const ana = await p.signup();
    const a = await defaultWallet(p, ana);
    await fund(p, ana, a.id, "100.00");
    const res = await p.api<Transaction>("POST", `/api/v1/wallets/${a.id}/convert`, {
      token: ana.token,
      json: { to_currency: "USD", amount: "47.00" },
    });
    expect(res.status).toBe(201);
    const quote = await p.api<Quote>("GET", `/api/v1/fx/quotes/${res.body.quote_id}`, { token: ana.token });
    expect(res.body).toMatchObject({
      transaction_type: "conversion",
      status: "completed",
      amount: "47.00",
      currency: "MYR",
      to_currency: "USD",
      to_amount: quote.body.to_amount,
      rate: quote.body.rate,
      spread_amount: quote.body.spread_amount,
    });
    expect(quote.body).toMatchObject({ to_amount: "9.95", spread_amount: "0.05", status: "redeemed" });
    expect((await balanceOf(p, ana, a.id)).available).toBe("53.00");
    // The USD wallet opened on the way; its own list shows the conversion into it.
    const usd = res.body.to_wallet_id;
    expect((await balanceOf(p, ana, usd)).available).toBe("9.95");
    const list = await p.api<{ data: Transaction[] }>("GET", `/api/v1/wallets/${usd}/transactions`, {
      token: ana.token,
    });
    expect(list.body.data.map((t) => t.transaction_id)).toEqual([res.body.transaction_id]);
    const total = await p.api<{ currency: string; total: string; wallets: unknown[] }>(
      "GET",
      "/api/v1/users/me/balance",
      { token: ana.token },
    );
    // 53.00 MYR + 9.95 USD at 4.70 (46.765 -> 46.76, half-even).
    expect(total.body).toMatchObject({ currency: "MYR", total: "99.76" });
    expect(total.body.wallets).toHaveLength(2);
  });

  test("refusals: another currency than the sender's, an unknown or the same wallet, too little money", async ({
    platform: p,
  }) => {
    const ana = await p.signup();
    const ben = await p.signup();
    const a = await defaultWallet(p, ana);
    const b = await defaultWallet(p, ben);
    await fund(p, ana, a.id, "10.00");
    const currency = await send(p, ana, {
      from_wallet_id: a.id,
      to_wallet_id: b.id,
      amount: "1.00",
      currency: "USD",
    });
    expect(currency.status).toBe(400);
    expect(currency.body.details).toMatchObject({ field: "currency" });
    const unknown = await send(p, ana, {
      from_wallet_id: a.id,
      to_wallet_id: "00000000-0000-4000-8000-000000000000",
      amount: "1.00",
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.details).toMatchObject({ field: "to_wallet_id" });
    const self = await send(p, ana, { from_wallet_id: a.id, to_wallet_id: a.id, amount: "1.00" });
    expect(self.status).toBe(400);
    const notMine = await send(p, ana, { from_wallet_id: b.id, to_wallet_id: a.id, amount: "1.00" });
    expect(notMine.status).toBe(404);
    const poor = await send(p, ana, { from_wallet_id: a.id, to_wallet_id: b.id, amount: "10.01" });
    expect(poor.status).toBe(422);
    expect(poor.body).toMatchObject({ error: "INSUFFICIENT_BALANCE", details: { available: "10.00" } });
    expect((await balanceOf(p, ben, b.id)).available).toBe("0.00");
    // Both sides of the refused transfer show as failed.
    const theirs = await p.api<{ data: Transaction[] }>("GET", "/api/v1/transactions", { token: ben.token });
    expect(theirs.body.data.map((t) => [t.direction, t.status])).toEqual([["incoming", "failed"]]);
  });

  test("the books balance: wallets and system accounts sum to zero per currency", async ({ platform: p }) => {
    await p.expectBooksBalance();
  });
});
