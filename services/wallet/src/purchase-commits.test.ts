import { setTimeout as sleep } from "node:timers/promises";
import { RuleMode } from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import { describe, expect } from "vitest";
import type { ErrorBody, Platform, TestUser, Transaction } from "./test/harness.js";
import { balanceOf, defaultWallet, fund, platformTest } from "./test/harness.js";

// What a purchase costs the database: its Idempotency-Key is claimed in the statement that records it, so a
// keyed purchase commits no more often than one without a key, and concurrent purchases share their
// statements (group commit) while each gets its own answer.
// Fraud gets a generous deadline: on a loaded machine many scores at once can outlast the default 500 ms.
const test = platformTest({
  walletEnv: { FRAUD_TIMEOUT_MS: "10000" },
  fraudRules: { mode: RuleMode.SHADOW },
});

const buy = (p: Platform, user: TestUser, amount: string, key?: string) =>
  p.api<Transaction & ErrorBody>("POST", "/api/v1/transactions", {
    token: user.token,
    json: {
      amount,
      currency: "MYR",
      merchant_name: "Kedai",
      merchant_category: "groceries",
      transaction_type: "purchase",
    },
    ...(key !== undefined && { headers: { "idempotency-key": key } }),
  });

/** `n` users, each with a funded default wallet. */
async function fundedUsers(
  p: Platform,
  n: number,
  amount: string,
): Promise<Array<TestUser & { wallet: string }>> {
  const out: Array<TestUser & { wallet: string }> = [];
  for (let i = 0; i < n; i += 4) {
    const wave = await Promise.all(
      Array.from({ length: Math.min(4, n - i) }, async () => {
        const user = await p.signup();
        const w = await defaultWallet(p, user);
        await fund(p, user, w.id, amount);
        return { ...user, wallet: w.id };
      }),
    );
    out.push(...wave);
  }
  return out;
}

const recording = (sql: string) => /INSERT INTO transactions/.test(sql);
const changing = (sql: string) => /^\s*(WITH [\s\S]*)?UPDATE transactions/.test(sql);

/**
 * The wallet's statements while `fn` runs. With `holdMs`, every recording statement waits until `holdMs` after
 * the first one began: purchases that reach the wallet meanwhile queue behind the statements held, as they do
 * behind statements that take that long, instead of depending on how closely a loaded machine delivers them.
 */
async function statementsDuring(p: Platform, fn: () => Promise<void>, holdMs?: number): Promise<string[]> {
  const seen: string[] = [];
  let held: Promise<void> | undefined;
  p.dbDelay = (sql) => {
    seen.push(sql);
    if (holdMs === undefined || !recording(sql)) return undefined;
    held ??= sleep(holdMs);
    return held;
  };
  try {
    await fn();
  } finally {
    p.dbDelay = undefined;
  }
  return seen;
}

describe("what a purchase commits", () => {
  test("a keyed purchase claims its key in the statement that records it, and replays as before", async ({
    platform: p,
  }) => {
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    await fund(p, ana, w.id, "100.00");
    let first: Awaited<ReturnType<typeof buy>> | undefined;
    const statements = await statementsDuring(p, async () => {
      first = await buy(p, ana, "12.50", "one-statement");
    });
    expect(first?.status).toBe(201);
    expect(first?.body.status).toBe("completed");
    const claims = statements.filter((s) => /INSERT INTO idempotency_keys/.test(s));
    expect(claims).toHaveLength(1);
    expect(claims[0]).toMatch(/INSERT INTO transactions/);

    const again = await buy(p, ana, "12.50", "one-statement");
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body).toEqual(first?.body);
    const other = await buy(p, ana, "99.00", "one-statement");
    expect(other.status).toBe(422);
    expect(other.body.error).toBe("IDEMPOTENCY_KEY_REUSED");
    expect((await balanceOf(p, ana, w.id)).available).toBe("87.50");
  });

  test("a keyed purchase over the daily limit is refused under its key, and the refusal replays", async ({
    platform: p,
  }) => {
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    await fund(p, ana, w.id, "50000.00");
    await fund(p, ana, w.id, "50000.00");
    await fund(p, ana, w.id, "10000.00");
    expect((await buy(p, ana, "50000.00", "day-1")).status).toBe(201);
    expect((await buy(p, ana, "50000.00", "day-2")).status).toBe(201);
    const over = await buy(p, ana, "0.01", "day-3");
    expect(over.status).toBe(422);
    expect(over.body).toMatchObject({
      error: "LIMIT_EXCEEDED",
      details: { kind: "daily", used: "100000.00" },
    });
    const replay = await buy(p, ana, "0.01", "day-3");
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body).toEqual(over.body);
    expect((await balanceOf(p, ana, w.id)).available).toBe("10000.00");
  });

  test("concurrent purchases: each its own transaction, recorded and completed in shared statements", async ({
    platform: p,
  }) => {
    const users = await fundedUsers(p, 16, "100.00");
    let answers: Array<Awaited<ReturnType<typeof buy>>> = [];
    const statements = await statementsDuring(
      p,
      async () => {
        answers = await Promise.all(
          users.map((u, i) => buy(p, u, "10.00", i % 2 === 0 ? `burst-${i}` : undefined)),
        );
      },
      500,
    );
    expect(answers.map((a) => a.status)).toEqual(users.map(() => 201));
    expect(answers.map((a) => a.body.status)).toEqual(users.map(() => "completed"));
    expect(new Set(answers.map((a) => a.body.transaction_id)).size).toBe(users.length);
    for (const u of users) expect((await balanceOf(p, u, u.wallet)).available).toBe("90.00");
    // 16 recordings and 16 completions, in far fewer statements (commits) than that.
    expect(statements.filter(recording).length).toBeLessThanOrEqual(users.length / 2);
    expect(statements.filter(changing).length).toBeLessThanOrEqual(users.length / 2);
    await p.expectBooksBalance();
  });

  test("one refused purchase among concurrent ones fails alone", async ({ platform: p }) => {
    const users = await fundedUsers(p, 8, "100.00");
    const [spent, reuser] = users;
    if (spent === undefined || reuser === undefined) throw new Error("no users");
    // One user has spent the day's limit already; another has used a key for another purchase.
    await fund(p, spent, spent.wallet, "50000.00");
    await fund(p, spent, spent.wallet, "50000.00");
    expect((await buy(p, spent, "50000.00")).status).toBe(201);
    expect((await buy(p, spent, "50000.00")).status).toBe(201);
    expect((await buy(p, reuser, "5.00", "mine")).status).toBe(201);
    let answers: Array<Awaited<ReturnType<typeof buy>>> = [];
    const statements = await statementsDuring(
      p,
      async () => {
        answers = await Promise.all(users.map((u) => buy(p, u, "10.00", u === reuser ? "mine" : undefined)));
      },
      500,
    );
    expect(answers.map((a) => a.body.error ?? a.status)).toEqual([
      "LIMIT_EXCEEDED",
      "IDEMPOTENCY_KEY_REUSED",
      ...users.slice(2).map(() => 201),
    ]);
    expect(statements.filter(recording).length).toBeLessThan(users.length);
    for (const u of users.slice(2)) expect((await balanceOf(p, u, u.wallet)).available).toBe("90.00");
    expect((await balanceOf(p, spent, spent.wallet)).available).toBe("100.00");
    expect((await balanceOf(p, reuser, reuser.wallet)).available).toBe("95.00");
  });

  test("a crash after the shared commit, before the answers: retries under the same keys answer the same transactions", async ({
    platform: p,
  }) => {
    const users = await fundedUsers(p, 4, "100.00");
    // From the first recording statement on, the process is as good as dead: nothing it does after reaches
    // the database or the ledger, so no request is answered with its transaction.
    let committed = false;
    p.dbFault = (sql) => {
      if (committed) return true;
      if (recording(sql)) {
        committed = true;
        p.ledgerDown = true;
      }
      return false;
    };
    const lost = await Promise.all(users.map((u, i) => buy(p, u, "10.00", `crash-${i}`)));
    p.dbFault = undefined;
    p.ledgerDown = false;
    expect(lost.map((a) => a.status >= 500)).toEqual(users.map(() => true));
    const recorded = await p.pool.query<{ user_id: string; id: string }>(
      "SELECT user_id, id FROM transactions WHERE transaction_type = 'purchase' AND user_id = ANY($1)",
      [users.map((u) => u.id)],
    );
    expect(recorded.rows.length).toBeGreaterThan(0);

    // The replica is gone: its keys' and its transactions' leases run out, and the clients retry.
    await p.pool.query(
      `UPDATE idempotency_keys SET locked_until = '2000-01-01T00:00:00Z' WHERE principal = ANY($1)`,
      [users.map((u) => `user:${u.id}`)],
    );
    await p.pool.query(
      "UPDATE transactions SET lease_until = '2000-01-01T00:00:00Z' WHERE lease_until IS NOT NULL",
    );
    const retried = await Promise.all(users.map((u, i) => buy(p, u, "10.00", `crash-${i}`)));
    expect(retried.map((a) => a.status)).toEqual(users.map(() => 201));
    for (const [i, u] of users.entries()) {
      const mine = recorded.rows.find((r) => r.user_id === u.id);
      if (mine !== undefined) {
        expect(retried[i]?.body.transaction_id).toBe(mine.id);
        expect(retried[i]?.headers.get("idempotent-replayed")).toBe("true");
      }
      expect((await balanceOf(p, u, u.wallet)).available).toBe("90.00");
    }
    const { rows } = await p.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM transactions WHERE transaction_type = 'purchase' AND user_id = ANY($1)",
      [users.map((u) => u.id)],
    );
    expect(rows[0]?.n).toBe(users.length);
    await p.expectBooksBalance();
  });
});
