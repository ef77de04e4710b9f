import { RuleMode } from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import { waitFor } from "@fintech/testing";
import { describe, expect } from "vitest";
import type { Answer, ErrorBody, Platform, TestUser, Transaction } from "./test/harness.js";
import { balanceOf, defaultWallet, fund, platformTest } from "./test/harness.js";

// Idempotency-Key bound to the transaction it creates: every window a crash, a timeout or a database going
// away can leave, made deterministic (the key row as a crash leaves it, a statement that fails), then a
// retry with the same key. It must answer that transaction and never move the money again.

const GATEWAY_TIMEOUT_MS = 6000;
// The wallet would wait a minute for a running key: the gateway's deadline must cut that short. Fraud scores
// in shadow mode: it holds no payment here.
const test = platformTest({
  walletEnv: { WALLET_IDEMPOTENCY_WAIT_MS: "60000" },
  gatewayEnv: { BACKEND_TIMEOUT_MS: String(GATEWAY_TIMEOUT_MS) },
  fraudRules: { mode: RuleMode.SHADOW },
});

type Reply = Answer<Transaction & ErrorBody>;

const post = (p: Platform, user: TestUser, path: string, json: unknown, key: string): Promise<Reply> =>
  p.api<Transaction & ErrorBody>("POST", path, {
    token: user.token,
    json,
    headers: { "idempotency-key": key },
  });

const purchase = (amount: string) => ({
  amount,
  currency: "MYR",
  merchant_name: "Kedai",
  merchant_category: "groceries",
  transaction_type: "purchase",
});

/** Leaves the key as a crash of its request leaves it: running, nothing answered, its lease run out. */
async function asCrashed(p: Platform, user: TestUser, key: string): Promise<void> {
  const { rowCount } = await p.pool.query(
    `UPDATE idempotency_keys SET state = 'running', response = NULL, error = NULL,
       locked_until = '2000-01-01T00:00:00Z'
     WHERE principal = $1 AND key = $2`,
    [`user:${user.id}`, key],
  );
  expect(rowCount).toBe(1);
}

/** Lets the transactions' leases run out, as time passing would. */
async function leasesRunOut(p: Platform): Promise<void> {
  await p.pool.query(
    "UPDATE transactions SET lease_until = '2000-01-01T00:00:00Z' WHERE lease_until IS NOT NULL",
  );
}

/** The user's own transaction rows (both sides of a transfer count for their own user). */
async function rowsOf(p: Platform, user: TestUser): Promise<Array<{ id: string; status: string }>> {
  const { rows } = await p.pool.query<{ id: string; status: string }>(
    "SELECT id, status FROM transactions WHERE user_id = $1 ORDER BY created_at, id",
    [user.id],
  );
  return rows;
}

/** The ledger transfers of a wallet's account. */
async function transfersOf(p: Platform, walletId: string): Promise<number> {
  const { data } = await p.ledger.listAccountTransfers({ accountId: walletId, limit: 1000 });
  return data.length;
}

/**
 * Once the transaction is recorded, fails the wallet's queries (those matching `only`, else all) and, with
 * `ledger`, its ledger calls: all of them is a crash right after recording.
 */
function failAfterRecording(p: Platform, opts: { only?: RegExp; ledger?: boolean } = {}): void {
  let recorded = false;
  p.dbFault = (sql) => {
    if (recorded) return opts.only === undefined || opts.only.test(sql);
    if (/INSERT INTO transactions/.test(sql)) {
      recorded = true;
      if (opts.ledger === true) p.ledgerDown = true;
    }
    return false;
  };
}

function heal(p: Platform): void {
  p.dbFault = undefined;
  p.ledgerDown = false;
}

describe("Idempotency-Key bound to its transaction", () => {
  test("a crash after the transaction is recorded: the retry drives that transaction, the money moves once", async ({
    platform: p,
  }) => {
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    const path = `/api/v1/wallets/${w.id}/fund`;
    failAfterRecording(p, { ledger: true });
    const lost = await post(p, ana, path, { amount: "25.00", source: "visa" }, "crash-1");
    heal(p);
    expect(lost.status).toBeGreaterThanOrEqual(500);
    const [recorded, ...others] = await rowsOf(p, ana);
    expect(others).toEqual([]);
    expect(recorded?.status).toBe("pending");
    expect(await transfersOf(p, w.id)).toBe(0);

    // The request's replica is gone: its key's and its transaction's leases run out.
    await asCrashed(p, ana, "crash-1");
    await leasesRunOut(p);
    const retry = await post(p, ana, path, { amount: "25.00", source: "visa" }, "crash-1");
    expect(retry.status).toBe(201);
    expect(retry.body).toMatchObject({ transaction_id: recorded?.id, status: "completed", amount: "25.00" });
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    const again = await post(p, ana, path, { amount: "25.00", source: "visa" }, "crash-1");
    expect(again.body).toEqual(retry.body);
    expect(await rowsOf(p, ana)).toEqual([{ id: recorded?.id, status: "completed" }]);
    expect(await transfersOf(p, w.id)).toBe(1);
    expect((await balanceOf(p, ana, w.id)).available).toBe("25.00");
  });

  test("the answer's final write fails: the caller still gets it, and a later retry answers the same transaction", async ({
    platform: p,
  }) => {
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    await fund(p, ana, w.id, "100.00");
    p.dbFault = (sql) => /UPDATE idempotency_keys SET state = 'done'/.test(sql);
    const first = await post(p, ana, "/api/v1/transactions", purchase("30.00"), "final-write");
    heal(p);
    expect(first.status).toBe(201);
    expect(first.body.status).toBe("completed");

    // The key still says running: a retry within its lease is told so, before the gateway gives up.
    const started = Date.now();
    const early = await post(p, ana, "/api/v1/transactions", purchase("30.00"), "final-write");
    expect(early.status).toBe(409);
    expect(early.body.error).toBe("IDEMPOTENCY_KEY_IN_USE");
    expect(Date.now() - started).toBeLessThan(GATEWAY_TIMEOUT_MS);

    await asCrashed(p, ana, "final-write");
    const retry = await post(p, ana, "/api/v1/transactions", purchase("30.00"), "final-write");
    expect(retry.status).toBe(201);
    expect(retry.body).toMatchObject({ transaction_id: first.body.transaction_id, status: "completed" });
    expect((await rowsOf(p, ana)).filter((r) => r.id !== first.body.transaction_id)).toHaveLength(1); // the top-up
    expect((await balanceOf(p, ana, w.id)).available).toBe("70.00");
  });

  test("a failure after the transaction is recorded does not free the key: the retry answers that transaction", async ({
    platform: p,
  }) => {
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    await fund(p, ana, w.id, "100.00");
    const path = `/api/v1/wallets/${w.id}/withdraw`;
    // The ledger posts, then the database refuses every statement on transactions: the request fails
    // after its money moved, and the key's bookkeeping still works.
    failAfterRecording(p, { only: /transactions/ });
    const failed = await post(p, ana, path, { amount: "40.00", destination: "bank" }, "after-record");
    heal(p);
    expect(failed.status).toBeGreaterThanOrEqual(500);
    const withdrawal = (await rowsOf(p, ana)).at(-1);
    expect(withdrawal?.status).toBe("pending");

    // Released at once (no lease to wait for), and answered with the transaction, not run again.
    const retry = await post(p, ana, path, { amount: "40.00", destination: "bank" }, "after-record");
    expect(retry.status).toBe(201);
    expect(retry.body.transaction_id).toBe(withdrawal?.id);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    await leasesRunOut(p);
    await p.wallet.maintain();
    expect(await rowsOf(p, ana)).toHaveLength(2);
    expect((await rowsOf(p, ana)).at(-1)).toEqual({ id: withdrawal?.id, status: "completed" });
    expect((await balanceOf(p, ana, w.id)).available).toBe("60.00");
  });

  test("an earlier attempt still running when its lease ran out: it and the retry answer one transaction", async ({
    platform: p,
  }) => {
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    const path = `/api/v1/wallets/${w.id}/fund`;
    // The first attempt stalls just before it records its transaction.
    let release: () => void = () => undefined;
    const stalled = new Promise<void>((resolve) => {
      release = resolve;
    });
    let held = false;
    p.dbDelay = (sql) => {
      if (held || !/INSERT INTO transactions/.test(sql)) return undefined;
      held = true;
      return stalled;
    };
    const slow = post(p, ana, path, { amount: "8.00" }, "stale");
    await waitFor(() => held);
    // Its lease runs out while it still runs, and a retry takes the key over and records the transaction.
    await asCrashed(p, ana, "stale");
    const retry = await post(p, ana, path, { amount: "8.00" }, "stale");
    expect(retry.status).toBe(201);
    // The first attempt goes on: the transaction's id is taken, and it answers the one recorded.
    release();
    const first = await slow;
    p.dbDelay = undefined;
    expect(first.status).toBe(201);
    expect(first.body.transaction_id).toBe(retry.body.transaction_id);
    expect(await rowsOf(p, ana)).toHaveLength(1);
    expect((await balanceOf(p, ana, w.id)).available).toBe("8.00");
  });

  test("a refusal recorded as a failed transaction is replayed after a crash, not tried again", async ({
    platform: p,
  }) => {
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    await fund(p, ana, w.id, "10.00");
    const first = await post(p, ana, "/api/v1/transactions", purchase("15.00"), "too-big");
    expect(first.status).toBe(422);
    expect(first.body.error).toBe("INSUFFICIENT_BALANCE");
    // Enough money now: a second run would succeed, which is exactly what must not happen.
    await fund(p, ana, w.id, "20.00");
    await asCrashed(p, ana, "too-big");
    const retry = await post(p, ana, "/api/v1/transactions", purchase("15.00"), "too-big");
    expect(retry.status).toBe(422);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(retry.body).toMatchObject({
      error: "INSUFFICIENT_BALANCE",
      details: { transaction_id: first.body.details.transaction_id },
    });
    expect((await rowsOf(p, ana)).filter((r) => r.status === "failed")).toHaveLength(1);
    expect((await balanceOf(p, ana, w.id)).available).toBe("30.00");
  });

  test("every money-moving POST is bound: after a crash before its answer was saved, the retry answers the same transaction", async ({
    platform: p,
  }) => {
    const ana = await p.signup();
    const ben = await p.signup();
    const admin = await p.admin();
    const w = await defaultWallet(p, ana);
    const bw = await defaultWallet(p, ben);
    const calls: Array<{ name: string; user: TestUser; path: string; json: unknown; status: number }> = [
      {
        name: "fund",
        user: ana,
        path: `/api/v1/wallets/${w.id}/fund`,
        json: { amount: "200.00" },
        status: 201,
      },
      {
        name: "top-up",
        user: ana,
        path: "/api/v1/transactions",
        json: { amount: "50.00", currency: "MYR", transaction_type: "top_up" },
        status: 201,
      },
      {
        name: "withdraw",
        user: ana,
        path: `/api/v1/wallets/${w.id}/withdraw`,
        json: { amount: "10.00" },
        status: 201,
      },
      {
        name: "withdrawal",
        user: ana,
        path: "/api/v1/transactions",
        json: { amount: "5.00", currency: "MYR", transaction_type: "withdrawal" },
        status: 201,
      },
      { name: "purchase", user: ana, path: "/api/v1/transactions", json: purchase("20.00"), status: 201 },
      {
        name: "convert",
        user: ana,
        path: `/api/v1/wallets/${w.id}/convert`,
        json: { to_currency: "USD", amount: "15.00" },
        status: 201,
      },
      {
        name: "transfer",
        user: ana,
        path: "/api/v1/transfers",
        json: { from_wallet_id: w.id, to_wallet_id: bw.id, amount: "12.00" },
        status: 201,
      },
    ];
    const answered = new Map<string, Reply>();
    for (const c of calls) {
      const first = await post(p, c.user, c.path, c.json, `bound-${c.name}`);
      expect({ name: c.name, status: first.status }).toEqual({ name: c.name, status: c.status });
      answered.set(c.name, first);
    }
    const bought = answered.get("purchase")?.body.transaction_id ?? "";
    const sent = answered.get("transfer")?.body.transaction_id ?? "";
    const later = [
      {
        name: "refund",
        user: ana,
        path: `/api/v1/transactions/${bought}/refund`,
        json: { amount: "4.00" },
        status: 201,
      },
      {
        name: "reverse",
        user: admin,
        path: `/api/v1/transactions/${sent}/reverse`,
        json: { reason: "x" },
        status: 200,
      },
    ];
    for (const c of later) {
      const first = await post(p, c.user, c.path, c.json, `bound-${c.name}`);
      expect({ name: c.name, status: first.status }).toEqual({ name: c.name, status: c.status });
      answered.set(c.name, first);
    }
    const before = {
      ana: await rowsOf(p, ana),
      ben: await rowsOf(p, ben),
      balance: await balanceOf(p, ana, w.id),
      theirs: await balanceOf(p, ben, bw.id),
    };

    for (const c of [...calls, ...later]) {
      await asCrashed(p, c.user, `bound-${c.name}`);
      const retry = await post(p, c.user, c.path, c.json, `bound-${c.name}`);
      const first = answered.get(c.name);
      expect({ name: c.name, status: retry.status, id: retry.body.transaction_id }).toEqual({
        name: c.name,
        status: c.status,
        id: first?.body.transaction_id,
      });
      expect(retry.headers.get("idempotent-replayed")).toBe("true");
    }
    expect(answered.get("reverse")?.body.status).toBe("reversed");
    expect({
      ana: await rowsOf(p, ana),
      ben: await rowsOf(p, ben),
      balance: await balanceOf(p, ana, w.id),
      theirs: await balanceOf(p, ben, bw.id),
    }).toEqual(before);
    await p.expectBooksBalance();
  });

  test("a key still running is answered IDEMPOTENCY_KEY_IN_USE before the gateway's deadline, not 504", async ({
    platform: p,
  }) => {
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    const path = `/api/v1/wallets/${w.id}/fund`;
    expect((await post(p, ana, path, { amount: "3.00" }, "slow")).status).toBe(201);
    // As if that first request were still running, for an hour yet.
    await p.pool.query(
      `UPDATE idempotency_keys SET state = 'running', response = NULL, locked_until = $3
       WHERE principal = $1 AND key = $2`,
      [`user:${ana.id}`, "slow", new Date(p.clock.now().getTime() + 3_600_000)],
    );
    const started = Date.now();
    const res = await post(p, ana, path, { amount: "3.00" }, "slow");
    const took = Date.now() - started;
    expect(res.status).toBe(409);
    expect(res.body.error).toBe("IDEMPOTENCY_KEY_IN_USE");
    // It waited for the first request as long as the deadline allowed, and answered in time.
    expect(took).toBeGreaterThan(GATEWAY_TIMEOUT_MS / 2);
    expect(took).toBeLessThan(GATEWAY_TIMEOUT_MS);
    expect((await balanceOf(p, ana, w.id)).available).toBe("3.00");
  });
});
