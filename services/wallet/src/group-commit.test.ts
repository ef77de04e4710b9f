import { RuleMode } from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import { describe, expect } from "vitest";
import type { ErrorBody, Platform, TestUser, Transaction } from "./test/harness.js";
import { balanceOf, defaultWallet, fund, platformTest } from "./test/harness.js";

// What a purchase costs the database: its Idempotency-Key is claimed in the statement that records it, so a
// keyed purchase commits no more often than one without a key.
// Fraud gets a generous deadline: on a loaded machine many scores at once can outlast the default 500 ms.
const test = platformTest({ walletEnv: { FRAUD_TIMEOUT_MS: "10000" } });

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

/** The wallet's statements while `fn` runs. */
async function statementsDuring(p: Platform, fn: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  p.dbDelay = (sql) => {
    seen.push(sql);
    return undefined;
  };
  try {
    await fn();
  } finally {
    p.dbDelay = undefined;
  }
  return seen;
}

describe("group commit", () => {
  test("set-up: fraud scores in shadow mode", async ({ platform: p }) => {
    await p.rules({ mode: RuleMode.SHADOW });
  });

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
});
