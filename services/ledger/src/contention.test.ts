import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { parseAmount } from "@fintech/money";
import { errorInfoOf } from "@fintech/platform";
import type pg from "pg";
import { register } from "prom-client";
import { describe, expect } from "vitest";
import type { LedgerClient } from "./test/harness.js";
import { expectRefusal, fund, ledgerTest, move, openAccount, startReplica } from "./test/harness.js";

const test = ledgerTest();

/** "ok" or the refusal reason of each call, in order; anything else (Internal, Aborted, ...) as "CODE: message". */
async function settle(calls: Array<Promise<unknown>>): Promise<string[]> {
  const results = await Promise.allSettled(calls);
  return results.map((r) => {
    if (r.status === "fulfilled") return "ok";
    const err = r.reason;
    if (err instanceof ConnectError) return errorInfoOf(err)?.reason ?? `${Code[err.code]}: ${err.message}`;
    return String(err);
  });
}

function tally(xs: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const x of xs) counts[x] = (counts[x] ?? 0) + 1;
  return counts;
}

describe("under contention", () => {
  test("1,000 concurrent debits of 1.00 from a hot account holding 500.00: exactly 500 succeed", async ({
    ledger,
  }) => {
    const hot = await openAccount(ledger.client);
    const sink = await openAccount(ledger.client);
    await fund(ledger.client, hot, "500.00");
    const replica = await startReplica(ledger);
    try {
      // Half of the calls reach another replica: its batches lock the same row from another transaction.
      const clients: LedgerClient[] = [ledger.client, replica.client];
      const outcomes = await settle(
        Array.from({ length: 1000 }, (_, i) =>
          (clients[i % 2] as LedgerClient).createTransfer({ transfer: move(hot, sink, "1.00") }),
        ),
      );
      expect(tally(outcomes)).toEqual({ ok: 500, INSUFFICIENT_FUNDS: 500 });
    } finally {
      await replica.stop();
    }
    const a = (await ledger.client.getAccount({ accountId: hot.id })).account;
    expect(a?.balance).toMatchObject({ debitsPosted: "500.00", creditsPosted: "500.00", available: "0.00" });
    const s = (await ledger.client.getAccount({ accountId: sink.id })).account;
    expect(s?.balance?.creditsPosted).toBe("500.00");
    expect((await ledger.client.checkIntegrity({})).ok).toBe(true);
  });

  test("A->B and B->A at once, on two replicas: no deadlock reaches a caller", async ({ ledger }) => {
    const a = await openAccount(ledger.client);
    const b = await openAccount(ledger.client);
    const c = await openAccount(ledger.client);
    await Promise.all([
      fund(ledger.client, a, "100.00"),
      fund(ledger.client, b, "100.00"),
      fund(ledger.client, c, "100.00"),
    ]);
    const replica = await startReplica(ledger);
    try {
      const clients: LedgerClient[] = [ledger.client, replica.client];
      const pairs = [
        [a, b],
        [b, a],
        [b, c],
        [c, a],
      ] as const;
      const calls = Array.from({ length: 400 }, (_, i) => {
        const [from, to] = pairs[i % pairs.length] ?? pairs[0];
        const client = clients[Math.floor(i / 4) % 2] as LedgerClient;
        return i % 5 === 0
          ? client.createTransfers({ transfers: [move(from, to, "0.50"), move(to, from, "0.25")] })
          : client.createTransfer({ transfer: move(from, to, "0.50") });
      });
      const outcomes = await settle(calls);
      expect(outcomes.filter((o) => o !== "ok" && o !== "INSUFFICIENT_FUNDS")).toEqual([]);
    } finally {
      await replica.stop();
    }
    const total = await Promise.all([a, b, c].map((x) => ledger.client.getAccount({ accountId: x.id })));
    const sum = total.reduce(
      (n, r) => n + parseAmount(r.account?.balance?.available ?? "0", r.account?.currency ?? "MYR"),
      0n,
    );
    expect(sum).toBe(30_000n);
    expect((await ledger.client.checkIntegrity({})).ok).toBe(true);
  });

  test("an account that changes between a batch's read and its write: the batch runs again under locks, no overdraft", async ({
    ledger,
  }) => {
    const hot = await openAccount(ledger.client);
    const sink = await openAccount(ledger.client);
    await fund(ledger.client, hot, "5.00");
    const conflicts = () => register.getSingleMetric("ledger_batch_conflicts_total")?.get();
    const before = (await conflicts())?.values[0]?.value ?? 0;
    // The replica's first read of the accounts (no lock taken) is answered only after the other ledger has taken
    // 3.00 from the hot account: the replica decides on 5.00 that are no longer there.
    let interfered = false;
    const replica = await startReplica(ledger, {}, (pool) => {
      const query = pool.query.bind(pool) as (text: string, values?: unknown[]) => Promise<pg.QueryResult>;
      return new Proxy(pool, {
        get(target, prop, receiver) {
          if (prop !== "query") return Reflect.get(target, prop, receiver);
          return async (text: string, values?: unknown[]) => {
            const result = await query(text, values);
            if (!interfered && text.includes("AS version") && !text.includes("FOR UPDATE")) {
              interfered = true;
              await ledger.client.createTransfer({ transfer: move(hot, sink, "3.00") });
            }
            return result;
          };
        },
      });
    });
    try {
      await expectRefusal(
        replica.client.createTransfer({ transfer: move(hot, sink, "4.00") }),
        Code.FailedPrecondition,
        "INSUFFICIENT_FUNDS",
      );
    } finally {
      await replica.stop();
    }
    expect(interfered).toBe(true);
    expect((await conflicts())?.values[0]?.value).toBe(before + 1);
    const a = (await ledger.client.getAccount({ accountId: hot.id })).account;
    expect(a?.balance).toMatchObject({ debitsPosted: "3.00", available: "2.00" });
    expect((await ledger.client.checkIntegrity({})).ok).toBe(true);
  });

  test("the same transfer id sent 1,000 times at once, to two replicas: one transfer", async ({ ledger }) => {
    const a = await openAccount(ledger.client);
    const b = await openAccount(ledger.client);
    await fund(ledger.client, a, "10.00");
    const t = move(a, b, "2.00", { id: randomUUID() });
    const replica = await startReplica(ledger);
    let replays: boolean[];
    try {
      const clients: LedgerClient[] = [ledger.client, replica.client];
      const results = await Promise.all(
        Array.from({ length: 1000 }, (_, i) =>
          (clients[i % 2] as LedgerClient).createTransfer({ transfer: t }),
        ),
      );
      replays = results.map((r) => r.replayed);
      expect(new Set(results.map((r) => r.transfer?.createdAt?.seconds)).size).toBe(1);
    } finally {
      await replica.stop();
    }
    expect(replays.filter((r) => !r)).toHaveLength(1);
    const { rows } = await ledger.pool.query<{ n: number }>(
      "SELECT count(*)::int4 AS n FROM transfers WHERE id = $1",
      [t.id],
    );
    expect(rows[0]?.n).toBe(1);
    const ra = (await ledger.client.getAccount({ accountId: a.id })).account;
    expect(ra?.balance?.available).toBe("8.00");
  });
});
