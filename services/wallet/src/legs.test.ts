import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { AccountRef, PlannedLeg } from "./legs.js";
import { mirror, move, refundShare } from "./legs.js";

const key = (ref: AccountRef) => ("wallet" in ref ? `w:${ref.wallet}` : `s:${ref.system}:${ref.currency}`);

/** Net effect per account and currency (credits minus debits). */
function net(legs: readonly PlannedLeg[]): Map<string, bigint> {
  const out = new Map<string, bigint>();
  const add = (k: string, v: bigint) => out.set(k, (out.get(k) ?? 0n) + v);
  for (const l of legs) {
    add(`${key(l.debit)}|${l.currency}`, -l.amount);
    add(`${key(l.credit)}|${l.currency}`, l.amount);
  }
  return out;
}

const currency = fc.constantFrom("MYR", "SGD", "USD");
const minor = fc.bigInt({ min: 1n, max: 10n ** 12n });

describe("legs", () => {
  it("a movement takes exactly what one side gives and gives exactly what the other receives; every currency nets to zero", () => {
    fc.assert(
      fc.property(
        currency,
        currency,
        minor,
        minor,
        fc.bigInt({ min: 0n, max: 10n ** 6n }),
        (fc1, tc, a, b, s) => {
          const same = fc1 === tc;
          const from = { account: { wallet: "a" }, amount: a, currency: fc1 };
          const to = { account: { wallet: "b" }, amount: same ? a : b, currency: tc };
          const legs = move(from, to, same ? 0n : s);
          expect(legs.every((l) => l.amount > 0n)).toBe(true);
          const n = net(legs);
          expect(n.get(`w:a|${fc1}`)).toBe(-a);
          expect(n.get(`w:b|${tc}`)).toBe(same ? a : b);
          const perCurrency = new Map<string, bigint>();
          for (const [k, v] of n) {
            const c = k.split("|")[1] ?? "";
            perCurrency.set(c, (perCurrency.get(c) ?? 0n) + v);
          }
          for (const v of perCurrency.values()) expect(v).toBe(0n);
          if (!same && s > 0n) expect(n.get(`s:revenue:${tc}|${tc}`)).toBe(s);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("refuses a movement within one currency that changes the amount", () => {
    const w = (id: string, amount: bigint) => ({ account: { wallet: id }, amount, currency: "MYR" });
    expect(() => move(w("a", 100n), w("b", 99n))).toThrow(RangeError);
  });

  it("mirrored legs undo the originals exactly", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom("x", "y", "z"), fc.constantFrom("p", "q"), minor), {
          minLength: 1,
        }),
        (raw) => {
          const legs = raw.map(([d, c, amount]) => ({ debit: d, credit: c, amount, currency: "MYR" }));
          const both = [...legs, ...mirror(legs)];
          const n = new Map<string, bigint>();
          for (const l of both) {
            n.set(l.debit, (n.get(l.debit) ?? 0n) - l.amount);
            n.set(l.credit, (n.get(l.credit) ?? 0n) + l.amount);
          }
          for (const v of n.values()) expect(v).toBe(0n);
          expect(mirror(mirror(legs))).toEqual(legs);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("any series of refunds adding up to the purchase gives back exactly its charge, each share in range", () => {
    fc.assert(
      fc.property(
        minor,
        fc.array(fc.bigInt({ min: 1n, max: 10n ** 6n }), { minLength: 1, maxLength: 20 }),
        (charged, parts) => {
          const amount = parts.reduce((s, p) => s + p, 0n);
          let before = 0n;
          let total = 0n;
          for (const part of parts) {
            const share = refundShare(charged, amount, before, part);
            expect(share >= 0n).toBe(true);
            total += share;
            before += part;
          }
          expect(total).toBe(charged);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("never refunds more than is left", () => {
    expect(() => refundShare(100n, 100n, 60n, 41n)).toThrow(RangeError);
    expect(refundShare(1565n, 333n, 0n, 111n)).toBe(522n);
    expect(refundShare(1565n, 333n, 111n, 111n)).toBe(521n);
  });
});
