import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import fc from "fast-check";
import { describe, expect } from "vitest";
import type { NewTransferInit } from "./test/harness.js";
import { fund, ledgerTest, move, openAccount } from "./test/harness.js";

// The whole service over real Postgres and NATS: random sequences of create / post / void / expire, each step's
// operations sent at once (single RPCs and batches mixed, so the batcher coalesces them in random ways). After
// every step the database itself must pass CheckIntegrity: per currency debits == credits (posted and pending),
// every balance equals its transfers, no account past its limit, no pending balance below zero.
const test = ledgerTest();

/** A refusal is an expected answer; anything the ledger did not mean to say (Internal, Unknown) fails the run. */
function refusalsOnly(err: unknown): void {
  if (err instanceof ConnectError && err.code !== Code.Internal && err.code !== Code.Unknown) return;
  throw err;
}

const cents = (n: number) => `${Math.floor(n / 100)}.${String(n % 100).padStart(2, "0")}`;

const command = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant("move" as const),
      from: fc.nat(4),
      to: fc.nat(4),
      amount: fc.integer({ min: 1, max: 4000 }),
      pending: fc.boolean(),
      timeout: fc.constantFrom(0, 0, 10),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constantFrom("post" as const, "void" as const),
      target: fc.nat(),
      amount: fc.option(fc.integer({ min: 1, max: 4000 })),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("retry" as const), target: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant("expire" as const), seconds: fc.integer({ min: 1, max: 15 }) }),
  },
);

const step = fc.record({
  commands: fc.array(command, { minLength: 1, maxLength: 12 }),
  // How the step's transfers are sent: 1 = each in its own CreateTransfer, more = CreateTransfers of that size.
  perCall: fc.integer({ min: 1, max: 4 }),
});

describe("property: invariants after every step", () => {
  test("random concurrent create/post/void/expire keeps the book balanced", async ({ ledger }) => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 6 }), async (steps) => {
        const accounts = await Promise.all([
          openAccount(ledger.client),
          openAccount(ledger.client),
          openAccount(ledger.client),
          openAccount(ledger.client, { limited: false, creditLimited: true }),
          openAccount(ledger.client, { limited: false }),
        ]);
        const [a, b, , capped, open] = accounts;
        if (!a || !b || !capped || !open) throw new Error("accounts");
        await Promise.all([fund(ledger.client, a, "50.00"), fund(ledger.client, b, "20.00")]);
        await ledger.client.createTransfer({ transfer: move(capped, open, "30.00") });
        const sent: NewTransferInit[] = [];
        const acked = new Set<string>();
        const pendings: string[] = [];

        for (const s of steps) {
          const transfers: NewTransferInit[] = [];
          let expire = 0;
          for (const c of s.commands) {
            if (c.t === "expire") {
              expire = Math.max(expire, c.seconds);
            } else if (c.t === "move") {
              const from = accounts[c.from % accounts.length];
              const to = accounts[c.to % accounts.length];
              if (!from || !to) continue;
              const t = move(from, to, cents(c.amount), {
                flags: { pending: c.pending },
                timeoutSeconds: c.pending ? c.timeout : 0,
              });
              if (c.pending) pendings.push(t.id ?? "");
              transfers.push(t);
            } else if (c.t === "retry") {
              const prior = sent[c.target % Math.max(1, sent.length)];
              if (prior) transfers.push(prior);
            } else {
              const pendingId = pendings[c.target % Math.max(1, pendings.length)] ?? randomUUID();
              transfers.push({
                id: randomUUID(),
                pendingId,
                flags: c.t === "post" ? { postPending: true } : { voidPending: true },
                ...(c.amount === null ? {} : { amount: cents(c.amount), currency: "MYR" }),
              });
            }
          }
          sent.push(...transfers);
          // A retry of a transfer acknowledged in an earlier step must be answered as a replay, whatever the
          // balances are now (refused transfers are not stored, so their retries are judged afresh).
          const ackedBefore = new Set(acked);
          const answered = (t: NewTransferInit | undefined, replayed: boolean | undefined) => {
            if (!t?.id) return;
            if (ackedBefore.has(t.id)) expect(replayed).toBe(true);
            if (replayed !== undefined) acked.add(t.id);
          };
          const calls: Array<Promise<unknown>> = [];
          for (let i = 0; i < transfers.length; i += s.perCall) {
            const chunk = transfers.slice(i, i + s.perCall);
            calls.push(
              chunk.length === 1
                ? ledger.client.createTransfer({ transfer: chunk[0] }).then(
                    (r) => answered(chunk[0], r.replayed),
                    (err: unknown) => {
                      refusalsOnly(err);
                      answered(chunk[0], undefined);
                    },
                  )
                : ledger.client.createTransfers({ transfers: chunk }).then((r) => {
                    r.results.forEach((x, k) => {
                      answered(chunk[k], x.outcome.case === "transfer" ? x.replayed : undefined);
                    });
                  }),
            );
          }
          if (expire > 0) {
            ledger.clock.advance(expire * 1000);
            calls.push(ledger.app.sweeper.runOnce());
          }
          await Promise.all(calls);

          const report = await ledger.client.checkIntegrity({});
          expect(report.violations).toEqual([]);
          expect(report.ok).toBe(true);
          for (const t of report.totals) {
            expect(t.debitsPosted).toBe(t.creditsPosted);
            expect(t.debitsPending).toBe(t.creditsPending);
          }
          const now = await Promise.all(accounts.map((x) => ledger.client.getAccount({ accountId: x.id })));
          for (const r of now) {
            expect(r.account?.balance?.debitsPending.startsWith("-")).toBe(false);
            expect(r.account?.balance?.creditsPending.startsWith("-")).toBe(false);
            if (
              r.account?.flags?.debitsMustNotExceedCredits ||
              r.account?.flags?.creditsMustNotExceedDebits
            ) {
              expect(r.account.balance?.available.startsWith("-")).toBe(false);
            }
          }
        }
      }),
      // No shrinking: each run costs real transactions, and the first failing example is enough to debug.
      { numRuns: 12, endOnFailure: true },
    );
  }, 60_000);
});
