import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { BatchState, Outcome } from "./apply-batch.js";
import { applyBatch } from "./apply-batch.js";
import type {
  Balances,
  BatchAccount,
  MoveRequest,
  Resolution,
  ResolveRequest,
  Transfer,
  TransferRequest,
} from "./model.js";
import { ZERO_BALANCES } from "./model.js";

// The in-memory engine on its own: many random batches per second, so the properties get many runs here and
// the database-backed property test (property.test.ts) can stay small.

const NOW = new Date("2026-03-01T08:00:00Z");

function account(
  id: string,
  flags: Partial<BatchAccount["flags"]> = {},
  balances: Balances = ZERO_BALANCES,
): BatchAccount {
  return {
    id,
    currency: "MYR",
    flags: { debitsMustNotExceedCredits: false, creditsMustNotExceedDebits: false, closed: false, ...flags },
    balances,
    updatedAtMs: NOW.getTime(),
    version: "1",
  };
}

const base = { linked: false, code: 0, reference: "", description: "", userData: {} };

function mv(
  id: string,
  from: string,
  to: string,
  amount: bigint,
  extra: Partial<MoveRequest> = {},
): MoveRequest {
  return {
    ...base,
    id,
    kind: "single",
    debitAccountId: from,
    creditAccountId: to,
    amount,
    currency: "MYR",
    timeoutSeconds: 0,
    ...extra,
  };
}

function rs(id: string, kind: "post" | "void", pendingId: string, amount?: bigint): ResolveRequest {
  return {
    ...base,
    id,
    kind,
    pendingId,
    debitAccountId: undefined,
    creditAccountId: undefined,
    amount,
    currency: amount === undefined ? undefined : "MYR",
    expiry: false,
  };
}

/** A ledger held in memory between batches, as the database would hold it. */
class Book {
  accounts = new Map<string, BatchAccount>();
  transfers = new Map<string, Transfer>();
  resolutions = new Map<string, Resolution>();

  constructor(accounts: BatchAccount[]) {
    for (const a of accounts) this.accounts.set(a.id, a);
  }

  run(calls: TransferRequest[][]): Outcome[][] {
    const state: BatchState = {
      accounts: this.accounts,
      stored: this.transfers,
      resolutions: this.resolutions,
      now: NOW,
    };
    const result = applyBatch(calls, state);
    for (const [id, b] of result.balances) {
      const a = this.accounts.get(id);
      if (a) this.accounts.set(id, { ...a, balances: b });
    }
    for (const t of result.created) {
      this.transfers.set(t.id, t);
      if (t.pendingId !== null) {
        this.resolutions.set(t.pendingId, {
          id: t.id,
          kind: t.kind === "post" ? "post" : "void",
          expired: t.expired,
        });
      }
    }
    return result.outcomes;
  }

  /** Every invariant the ledger promises, checked against a recomputation from the transfers. */
  check(): void {
    const sums = new Map<string, { dpe: bigint; dpo: bigint; cpe: bigint; cpo: bigint }>();
    const get = (id: string) => {
      let s = sums.get(id);
      if (!s) {
        s = { dpe: 0n, dpo: 0n, cpe: 0n, cpo: 0n };
        sums.set(id, s);
      }
      return s;
    };
    for (const t of this.transfers.values()) {
      const pending = t.kind === "pending" ? t.amount : t.kind === "single" ? 0n : -t.pendingAmount;
      const posted = t.kind === "single" || t.kind === "post" ? t.amount : 0n;
      const d = get(t.debitAccountId);
      const c = get(t.creditAccountId);
      d.dpe += pending;
      d.dpo += posted;
      c.cpe += pending;
      c.cpo += posted;
    }
    let dpo = 0n;
    let cpo = 0n;
    let dpe = 0n;
    let cpe = 0n;
    for (const a of this.accounts.values()) {
      const b = a.balances;
      const s = get(a.id);
      expect([b.debitsPending, b.debitsPosted, b.creditsPending, b.creditsPosted]).toEqual([
        s.dpe,
        s.dpo,
        s.cpe,
        s.cpo,
      ]);
      expect(b.debitsPending >= 0n && b.creditsPending >= 0n).toBe(true);
      if (a.flags.debitsMustNotExceedCredits)
        expect(b.debitsPosted + b.debitsPending <= b.creditsPosted).toBe(true);
      if (a.flags.creditsMustNotExceedDebits)
        expect(b.creditsPosted + b.creditsPending <= b.debitsPosted).toBe(true);
      dpo += b.debitsPosted;
      cpo += b.creditsPosted;
      dpe += b.debitsPending;
      cpe += b.creditsPending;
    }
    expect(dpo).toBe(cpo);
    expect(dpe).toBe(cpe);
  }
}

describe("applyBatch", () => {
  test("refuses a debit beyond the limit with what is available", () => {
    const book = new Book([account("a", { debitsMustNotExceedCredits: true }), account("w")]);
    const [[funded, over, exact]] = book.run([
      [mv("t1", "w", "a", 500n), mv("t2", "a", "w", 501n), mv("t3", "a", "w", 500n)],
    ]) as [[Outcome, Outcome, Outcome]];
    expect(funded.ok && exact.ok).toBe(true);
    expect(over).toEqual({
      ok: false,
      refusal: expect.objectContaining({
        reason: "INSUFFICIENT_FUNDS",
        details: { account_id: "a", available: "5.00", requested: "5.01" },
      }),
    });
    book.check();
  });

  test("a linked chain that fails leaves nothing behind, even a pending transfer it resolved", () => {
    const book = new Book([account("a", { debitsMustNotExceedCredits: true }), account("b"), account("w")]);
    book.run([[mv("f", "w", "a", 100n), mv("p", "a", "b", 60n, { kind: "pending" })]]);
    const [outcomes] = book.run([
      [
        { ...rs("x", "post", "p"), linked: true },
        mv("y", "a", "b", 40n, { linked: true }),
        mv("z", "a", "b", 100n),
      ],
    ]);
    expect(outcomes?.map((o) => (o.ok ? "ok" : o.refusal.reason))).toEqual([
      "LINKED_EVENT_FAILED",
      "LINKED_EVENT_FAILED",
      "INSUFFICIENT_FUNDS",
    ]);
    expect(book.resolutions.has("p")).toBe(false);
    expect(book.accounts.get("a")?.balances).toMatchObject({ debitsPending: 60n, debitsPosted: 0n });
    // The pending transfer is still there to be posted.
    const [[posted]] = book.run([[rs("x2", "post", "p", 30n)]]) as [[Outcome]];
    expect(posted.ok).toBe(true);
    expect(book.accounts.get("a")?.balances).toMatchObject({ debitsPending: 0n, debitsPosted: 30n });
    book.check();
  });

  test("an expired pending transfer can only be voided by the expiry", () => {
    const book = new Book([account("a"), account("b")]);
    book.run([[mv("p", "a", "b", 10n, { kind: "pending", timeoutSeconds: 1 })]]);
    const later = new Date(NOW.getTime() + 1000);
    const run = (t: ResolveRequest) =>
      applyBatch([[t]], {
        accounts: book.accounts,
        stored: book.transfers,
        resolutions: book.resolutions,
        now: later,
      }).outcomes[0]?.[0];
    expect(run(rs("v", "post", "p"))).toMatchObject({ ok: false, refusal: { reason: "PENDING_EXPIRED" } });
    expect(run({ ...rs("v", "void", "p"), expiry: true })).toMatchObject({
      ok: true,
      transfer: { status: "expired", amount: 10n },
    });
  });

  test("properties hold over random batches of random operations", () => {
    const ids = ["a", "b", "c", "d", "w"];
    const op = fc.oneof(
      fc.record({
        t: fc.constant("move" as const),
        from: fc.constantFrom(...ids),
        to: fc.constantFrom(...ids),
        amount: fc.bigInt({ min: 1n, max: 300n }),
        pending: fc.boolean(),
        linked: fc.boolean(),
        timeout: fc.constantFrom(0, 0, 5),
      }),
      fc.record({
        t: fc.constantFrom("post" as const, "void" as const),
        target: fc.nat(40),
        amount: fc.option(fc.bigInt({ min: 1n, max: 300n })),
        linked: fc.boolean(),
      }),
      fc.record({ t: fc.constant("retry" as const), target: fc.nat(40), change: fc.boolean() }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.array(op, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 4 }), {
          maxLength: 8,
        }),
        (batches) => {
          const book = new Book([
            account("a", { debitsMustNotExceedCredits: true }),
            account("b", { debitsMustNotExceedCredits: true }),
            account("c", { creditsMustNotExceedDebits: true }),
            account("d"),
            account("w"),
          ]);
          book.run([
            [
              mv(randomUUID(), "w", "a", 500n),
              mv(randomUUID(), "w", "b", 200n),
              mv(randomUUID(), "c", "w", 300n),
            ],
          ]);
          const sent: TransferRequest[] = [];
          const pendings: string[] = [];
          for (const batch of batches) {
            const calls = batch.map((call) =>
              call.map((o, i): TransferRequest => {
                const last = i === call.length - 1;
                let req: TransferRequest;
                if (o.t === "move") {
                  req = mv(randomUUID(), o.from, o.to, o.amount, {
                    kind: o.pending ? "pending" : "single",
                    timeoutSeconds: o.pending ? o.timeout : 0,
                    linked: o.linked && !last,
                  });
                  if (o.pending) pendings.push(req.id);
                } else if (o.t === "retry" && sent.length > 0) {
                  const prior = sent[o.target % sent.length] as TransferRequest;
                  req = o.change ? { ...prior, description: "changed" } : prior;
                  req = { ...req, linked: req.linked && !last };
                } else {
                  const target =
                    pendings.length > 0
                      ? (pendings[(o.t === "retry" ? 0 : o.target) % pendings.length] as string)
                      : randomUUID();
                  const amount = o.t === "post" || o.t === "void" ? (o.amount ?? undefined) : undefined;
                  req = {
                    ...rs(randomUUID(), o.t === "void" ? "void" : "post", target, amount),
                    linked: o.t !== "retry" && o.linked && !last,
                  };
                }
                sent.push(req);
                return req;
              }),
            );
            const before = book.transfers.size;
            const outcomes = book.run(calls);
            book.check();
            // Linked chains all succeed or all fail; replays and refusals create nothing.
            let created = 0;
            calls.forEach((call, c) => {
              let start = 0;
              for (let i = 0; i < call.length; i++) {
                if (call[i]?.linked) continue;
                const chain = outcomes[c]?.slice(start, i + 1) ?? [];
                if (chain.length > 1) expect(new Set(chain.map((o) => o.ok)).size).toBe(1);
                start = i + 1;
              }
              for (const o of outcomes[c] ?? []) if (o.ok && !o.replayed) created++;
            });
            expect(book.transfers.size - before).toBe(created);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
