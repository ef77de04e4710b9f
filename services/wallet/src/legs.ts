import { divideHalfEven } from "@fintech/money";
import type { Leg } from "./model.js";

// Which ledger transfers each kind of money movement makes. Pure: accounts are named symbolically (a wallet,
// or a system account kind in a currency) and resolved to ledger ids afterwards. Every leg debits one account
// and credits another in one currency, so each currency balances by construction; a movement across
// currencies goes through the platform's fx liquidity account in each currency.

/** The platform's accounts per currency (the ledger's system account kinds). */
export type SystemKind = "settlement" | "merchant_clearing" | "fx_liquidity" | "revenue";

export type AccountRef = { wallet: string } | { system: SystemKind; currency: string };

export interface PlannedLeg {
  debit: AccountRef;
  credit: AccountRef;
  /** Minor units of currency; always positive. */
  amount: bigint;
  currency: string;
}

/** One side of a movement: an account and what it gives or receives, in its currency. */
export interface Side {
  account: AccountRef;
  amount: bigint;
  currency: string;
}

const liquidity = (currency: string): AccountRef => ({ system: "fx_liquidity", currency });

/**
 * `from` gives `from.amount`, `to` receives `to.amount`. In one currency (amounts equal) that is one leg;
 * across currencies, `from` pays the fx liquidity account in its currency and the liquidity account in the
 * other currency pays `to`, and a spread (in `to`'s currency) moves from liquidity to revenue. Zero legs are
 * left out.
 */
export function move(from: Side, to: Side, spread = 0n): PlannedLeg[] {
  if (from.currency === to.currency) {
    if (from.amount !== to.amount || spread !== 0n) {
      throw new RangeError("a movement within one currency moves one amount and takes no spread");
    }
    return [{ debit: from.account, credit: to.account, amount: from.amount, currency: from.currency }];
  }
  const legs: PlannedLeg[] = [
    { debit: from.account, credit: liquidity(from.currency), amount: from.amount, currency: from.currency },
    { debit: liquidity(to.currency), credit: to.account, amount: to.amount, currency: to.currency },
  ];
  if (spread > 0n) {
    legs.push({
      debit: liquidity(to.currency),
      credit: { system: "revenue", currency: to.currency },
      amount: spread,
      currency: to.currency,
    });
  }
  return legs.filter((l) => l.amount > 0n);
}

/** The legs that undo `legs`: each one mirrored (credit and debit swapped), same amounts. */
export const mirror = (legs: readonly Leg[]): Leg[] =>
  legs.map((l) => ({ debit: l.credit, credit: l.debit, amount: l.amount, currency: l.currency }));

/**
 * The part of a purchase's charge (`charged`, in the wallet's currency, for `amount` in the purchase's
 * currency) that a refund of `refund` gives back after `before` was refunded already, at the purchase's own
 * rate. Rounded on the running total (half-even), so any series of refunds adding up to `amount` gives back
 * exactly `charged`.
 */
export function refundShare(charged: bigint, amount: bigint, before: bigint, refund: bigint): bigint {
  if (amount <= 0n || before < 0n || refund <= 0n || before + refund > amount) {
    throw new RangeError("refund out of range");
  }
  if (charged === amount) return refund;
  const upTo = (refunded: bigint) => divideHalfEven(charged * refunded, amount);
  return upTo(before + refund) - upTo(before);
}
