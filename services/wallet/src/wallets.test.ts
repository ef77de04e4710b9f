import { fromBinary } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { RuleMode } from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import {
  TransactionEventSchema,
  TransactionStatus,
  TransactionType,
} from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import { WalletService } from "@fintech/proto/fintech/wallet/v1/wallet_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "@fintech/proto/grpc/health/v1/health_pb.js";
import { grpcClient, unary, waitFor } from "@fintech/testing";
import { status } from "@grpc/grpc-js";
import { describe, expect } from "vitest";
import type { ErrorBody, Platform, TestUser, Transaction } from "./test/harness.js";
import { balanceOf, defaultWallet, fund, platformTest } from "./test/harness.js";

// Wallets, balances, lists and annotations through the gateway; the events the wallet publishes; a stock
// gRPC client on the wallet's own port. Fraud scores in shadow mode: it holds no payment here.
const test = platformTest({ fraudRules: { mode: RuleMode.SHADOW } });

interface WalletBody {
  id: string;
  user_id: string;
  currency: string;
  status: string;
  is_default: boolean;
  balance: { available: string; pending: string; posted: string };
  created_at: string;
}

const pay = (p: Platform, user: TestUser, amount: string, category: string, currency = "MYR") =>
  p.api<Transaction>("POST", "/api/v1/transactions", {
    token: user.token,
    json: {
      amount,
      currency,
      merchant_name: "Shop",
      merchant_category: category,
      transaction_type: "purchase",
    },
  });

describe("wallets", () => {
  test("a new user has a default wallet; funding it shows in the ledger balance", async ({ platform: p }) => {
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    expect(w).toMatchObject({
      currency: "MYR",
      balance: { available: "0.00", pending: "0.00", posted: "0.00" },
    });
    const t = await fund(p, ana, w.id, "100.50");
    expect(t).toMatchObject({
      transaction_type: "top_up",
      status: "completed",
      amount: "100.50",
      currency: "MYR",
    });
    expect(await balanceOf(p, ana, w.id)).toEqual({
      wallet_id: w.id,
      currency: "MYR",
      available: "100.50",
      pending: "0.00",
      posted: "100.50",
      incoming: "0.00",
    });
    const got = await p.api<WalletBody>("GET", `/api/v1/wallets/${w.id}`, { token: ana.token });
    expect(got.body).toMatchObject({
      id: w.id,
      user_id: ana.id,
      status: "active",
      balance: { available: "100.50" },
    });
  });

  test("one wallet per currency: 201, then WALLET_EXISTS; unsupported and unknown currencies are refused", async ({
    platform: p,
  }) => {
    const ana = await p.signup();
    await defaultWallet(p, ana);
    const sgd = await p.api<WalletBody>("POST", "/api/v1/wallets", {
      token: ana.token,
      json: { currency: "sgd" },
    });
    expect(sgd.status).toBe(201);
    expect(sgd.body).toMatchObject({ currency: "SGD", status: "active", is_default: false, user_id: ana.id });
    const again = await p.api<ErrorBody>("POST", "/api/v1/wallets", {
      token: ana.token,
      json: { currency: "SGD" },
    });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: "WALLET_EXISTS", details: { currency: "SGD" } });
    const jpy = await p.api<ErrorBody>("POST", "/api/v1/wallets", {
      token: ana.token,
      json: { currency: "JPY" },
    });
    expect(jpy.status).toBe(422);
    expect(jpy.body.error).toBe("CURRENCY_NOT_SUPPORTED");
    const bad = await p.api<ErrorBody>("POST", "/api/v1/wallets", {
      token: ana.token,
      json: { currency: "XX" },
    });
    expect(bad.status).toBe(400);
    // No mass assignment: a balance in the body is an unknown field.
    const forged = await p.api<ErrorBody>("POST", "/api/v1/wallets", {
      token: ana.token,
      json: { currency: "USD", balance: "1000" },
    });
    expect(forged.status).toBe(400);
    const list = await p.api<{ data: WalletBody[]; has_more: boolean }>("GET", "/api/v1/wallets", {
      token: ana.token,
    });
    expect(list.body.data.map((w) => w.currency)).toEqual(["MYR", "SGD"]);
    expect(list.body.has_more).toBe(false);
  });

  test("users reach only their own wallets and transactions; credentials are required", async ({
    platform: p,
  }) => {
    const ana = await p.signup();
    const ben = await p.signup();
    const w = await defaultWallet(p, ana);
    const t = await fund(p, ana, w.id, "5.00");
    for (const path of [
      `/api/v1/wallets/${w.id}`,
      `/api/v1/wallets/${w.id}/balance`,
      `/api/v1/wallets/${w.id}/transactions`,
      `/api/v1/transactions/${t.transaction_id}`,
      `/api/v1/users/${ana.id}/balance`,
    ]) {
      const res = await p.api<ErrorBody>("GET", path, { token: ben.token });
      expect(res.status, path).toBe(404);
      expect(res.body.error).toBe("NOT_FOUND");
    }
    const moved = await p.api("POST", `/api/v1/wallets/${w.id}/withdraw`, {
      token: ben.token,
      json: { amount: "1.00" },
    });
    expect(moved.status).toBe(404);
    expect((await p.api("GET", "/api/v1/wallets")).status).toBe(401);
    const admin = await p.admin();
    const seen = await p.api<{ total: string }>("GET", `/api/v1/users/${ana.id}/balance`, {
      token: admin.token,
    });
    expect(seen.body.total).toBe("5.00");
  });

  test("admins list any user's transactions with ?user_id=; a user never gets another's rows", async ({
    platform: p,
  }) => {
    const ana = await p.signup();
    const ben = await p.signup();
    const w = await defaultWallet(p, ana);
    const first = await fund(p, ana, w.id, "30.00");
    const second = (await pay(p, ana, "4.50", "transport")).body;
    await fund(p, ben, (await defaultWallet(p, ben)).id, "7.00");
    type List = { data: Transaction[]; has_more: boolean };
    const list = (user: TestUser, query: string) =>
      p.api<List & ErrorBody>("GET", `/api/v1/transactions?${query}`, { token: user.token });

    const admin = await p.admin();
    const seen = await list(admin, `user_id=${ana.id}`);
    expect(seen.status).toBe(200);
    expect(seen.body.data.map((t) => t.transaction_id)).toEqual([
      second.transaction_id,
      first.transaction_id,
    ]);
    expect(seen.body.data.every((t) => t.user_id === ana.id)).toBe(true);
    // The list's filters apply as for the user's own list.
    const purchases = await list(admin, `user_id=${ana.id}&transaction_type=purchase`);
    expect(purchases.body.data.map((t) => t.transaction_id)).toEqual([second.transaction_id]);
    // The admin's own list stays their own.
    expect((await list(admin, "")).body.data).toEqual([]);

    const probe = await list(ben, `user_id=${ana.id}`);
    expect(probe.status).toBe(404);
    expect(probe.body).toMatchObject({ error: "NOT_FOUND", details: { field: "user_id" } });
    const own = await list(ben, `user_id=${ben.id}`);
    expect(own.body.data.map((t) => t.user_id)).toEqual([ben.id]);
    expect((await list(ben, "user_id=me")).body.data).toHaveLength(1);
    expect((await list(admin, `user_id=${crypto.randomUUID()}`)).status).toBe(404);
  });

  test("lists: filters, sorting, cursor and offset pagination", async ({ platform: p }) => {
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    await fund(p, ana, w.id, "1000.00");
    p.clock.set("2026-03-05T02:00:00Z"); // 10:00 on 5 March in Kuala Lumpur
    const amounts = ["12.00", "3.50", "40.00", "7.25", "99.99"];
    const ids: string[] = [];
    for (const [i, amount] of amounts.entries()) {
      ids.push((await pay(p, ana, amount, i % 2 === 0 ? "food_beverage" : "transport")).body.transaction_id);
    }
    p.clock.set("2026-03-06T02:00:00Z");
    const late = (await pay(p, ana, "5.00", "transport")).body.transaction_id;
    p.clock.set("2026-03-02T04:00:00Z");
    type List = { data: Transaction[]; has_more: boolean; next_cursor: string };
    const get = async (query: string) => {
      const res = await p.api<List & ErrorBody>("GET", `/api/v1/transactions?${query}`, { token: ana.token });
      return res;
    };

    const newest = await get("transaction_type=purchase");
    expect(newest.body.data.map((t) => t.transaction_id)).toEqual([late, ...ids.reverse()]);
    ids.reverse();
    const food = await get("merchant_category=food_beverage&sort_by=amount&sort_order=asc");
    expect(food.body.data.map((t) => t.amount)).toEqual(["12.00", "40.00", "99.99"]);
    const range = await get(
      "min_amount=5&max_amount=40&sort_by=amount&sort_order=desc&transaction_type=purchase",
    );
    expect(range.body.data.map((t) => t.amount)).toEqual(["40.00", "12.00", "7.25", "5.00"]);
    // Dates are the user's days: 5 March only.
    const day = await get("start_date=2026-03-05&end_date=2026-03-05");
    expect(day.body.data.map((t) => t.transaction_id).sort()).toEqual([...ids].sort());
    const since = await get(`start_date=${encodeURIComponent("2026-03-06T00:00:00Z")}`);
    expect(since.body.data.map((t) => t.transaction_id)).toEqual([late]);
    expect((await get("status=completed&transaction_type=top_up")).body.data).toHaveLength(1);

    const pages: string[][] = [];
    let cursor = "";
    do {
      const page = await get(
        `transaction_type=purchase&sort_by=amount&limit=2${cursor ? `&cursor=${cursor}` : ""}`,
      );
      pages.push(page.body.data.map((t) => t.amount));
      cursor = page.body.has_more ? page.body.next_cursor : "";
    } while (cursor !== "");
    expect(pages).toEqual([
      ["99.99", "40.00"],
      ["12.00", "7.25"],
      ["5.00", "3.50"],
    ]);
    const offset = await get("transaction_type=purchase&sort_by=amount&limit=2&offset=2");
    expect(offset.body.data.map((t) => t.amount)).toEqual(["12.00", "7.25"]);

    for (const [query, field] of [
      ["sort_by=merchant", "sort_by"],
      ["limit=101", "limit"],
      ["cursor=nonsense", "cursor"],
      ["start_date=yesterday", "start_date"],
      ["min_amount=-3", "min_amount"],
      ["status=done", "status"],
    ]) {
      const res = await get(query as string);
      expect(res.status, query).toBe(400);
      expect(res.body.details.field).toBe(field);
    }
    const walletList = await p.api<List>("GET", `/api/v1/wallets/${w.id}/transactions?limit=100`, {
      token: ana.token,
    });
    expect(walletList.body.data).toHaveLength(7);
  });

  test("PATCH changes annotations only", async ({ platform: p }) => {
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    const t = await fund(p, ana, w.id, "5.00");
    const path = `/api/v1/transactions/${t.transaction_id}`;
    const res = await p.api<Transaction>("PATCH", path, {
      token: ana.token,
      json: { description: "salary", tags: ["work", "march"] },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ description: "salary", tags: ["work", "march"], amount: "5.00" });
    const kept = await p.api<Transaction>("PATCH", path, { token: ana.token, json: { description: "pay" } });
    expect(kept.body).toMatchObject({ description: "pay", tags: ["work", "march"] });
    const cleared = await p.api<Transaction>("PATCH", path, { token: ana.token, json: { clear_tags: true } });
    expect(cleared.body.tags).toEqual([]);
    const amount = await p.api<ErrorBody>("PATCH", path, { token: ana.token, json: { amount: "500.00" } });
    expect(amount.status).toBe(400);
    const ben = await p.signup();
    expect((await p.api("PATCH", path, { token: ben.token, json: { description: "mine" } })).status).toBe(
      404,
    );
  });

  test("events: every change is published with what analytics and fraud need", async ({ platform: p }) => {
    const ana = await p.signup({ timezone: "Asia/Singapore" });
    const ben = await p.signup();
    const a = await defaultWallet(p, ana);
    const b = await defaultWallet(p, ben);
    const top = await fund(p, ana, a.id, "20.00");
    const sent = await p.api<Transaction>("POST", "/api/v1/transfers", {
      token: ana.token,
      json: { from_wallet_id: a.id, to_wallet_id: b.id, amount: "4.00" },
    });
    const bought = await pay(p, ana, "1.00", "food_beverage", "USD");
    const events = async () =>
      (await p.walletEvents())
        .filter((e) => e.type.startsWith("wallet.transaction."))
        .map((e) => ({ type: e.type, m: fromBinary(TransactionEventSchema, e.data) }));
    const all = await waitFor(async () => {
      const e = await events();
      return (
        e.some((x) => x.m.transactionId === bought.body.transaction_id && x.type.endsWith("completed")) && e
      );
    });
    const of = (id: string) =>
      all.filter((e) => e.m.transactionId === id).map((e) => e.type.split(".").at(-1));
    expect(of(top.transaction_id)).toEqual(["created", "completed"]);
    const topUp = all.find(
      (e) => e.m.transactionId === top.transaction_id && e.type.endsWith("completed"),
    )?.m;
    expect(topUp).toMatchObject({
      userId: ana.id,
      walletId: a.id,
      type: TransactionType.TOP_UP,
      status: TransactionStatus.COMPLETED,
      amount: { currency: "MYR", amount: "20.00" },
      baseAmount: { currency: "MYR", amount: "20.00" },
      provider: "visa",
      timezone: "Asia/Singapore",
    });
    expect(topUp?.createdAt && timestampDate(topUp.createdAt).toISOString()).toBe(top.created_at);
    const transfer = all.filter((e) => e.m.type === TransactionType.TRANSFER && e.type.endsWith("completed"));
    expect(transfer.map((e) => [e.m.direction, e.m.userId, e.m.counterpartyUserId])).toEqual([
      ["outgoing", ana.id, ben.id],
      ["incoming", ben.id, ana.id],
    ]);
    expect(of(sent.body.transaction_id)).toEqual(["created", "completed"]);
    const purchase = all.find(
      (e) => e.m.transactionId === bought.body.transaction_id && e.type.endsWith("completed"),
    )?.m;
    expect(purchase).toMatchObject({
      amount: { currency: "USD", amount: "1.00" },
      baseAmount: { currency: "MYR", amount: "4.70" },
      merchantCategory: "food_beverage",
      merchantName: "Shop",
    });
  });

  test("a stock grpc-js client reaches the wallet's port: health, and no call without credentials", async ({
    platform: p,
  }) => {
    const client = grpcClient(p.walletPort);
    try {
      const health = await unary(client, Health.method.check, { service: WalletService.typeName });
      expect(health.message.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
      const anonymous = await unary(client, WalletService.method.listWallets, {}).catch(
        (e: { code: number }) => e,
      );
      expect((anonymous as { code: number }).code).toBe(status.UNAUTHENTICATED);
      const ana = await p.signup();
      const mine = await unary(
        client,
        WalletService.method.listWallets,
        {},
        { authorization: `Bearer ${ana.token}` },
      );
      expect(mine.message.data.map((w) => w.userId)).toEqual([ana.id]);
    } finally {
      client.close();
    }
  });

  test("the books balance: wallets and system accounts sum to zero per currency", async ({ platform: p }) => {
    await p.expectBooksBalance();
  });
});
