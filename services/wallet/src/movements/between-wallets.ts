import { move } from "../legs.js";
import type { Transaction, User, Wallet } from "../model.js";
import type { Call, Create } from "./movement.js";

// Money from one wallet to another: a transfer (to anyone) or a conversion (between one's own). Across
// currencies the receiver gets exactly an fx quote's amount, the spread goes to revenue, and the quote is
// redeemed when the transaction is driven.

export interface BetweenWallets {
  type: "transfer" | "conversion";
  user: User;
  from: Wallet;
  to: Wallet;
  /** Minor units of `from`'s currency. */
  amount: bigint;
  description: string;
  /** The request field naming the receiving side (to_wallet_id, to_currency). */
  toField: string;
}

/**
 * Plans `m`. A conversion is one row; a transfer is two, one per side (outgoing first, the call's own, and
 * incoming, the receiver's), each naming the other.
 */
export async function betweenWallets(call: Call, m: BetweenWallets): Promise<Create> {
  const { type, user, from, to, amount, toField } = m;
  await call.rates.requireSupported(from.currency, "currency");
  await call.rates.requireSupported(to.currency, toField);
  const baseAmount = await call.baseOf(amount, from.currency);
  call.checkMax(baseAmount);
  let received = amount;
  let rate = "";
  let spread = 0n;
  let quoteId: string | null = null;
  if (from.currency !== to.currency) {
    const q = await call.rates.quote(amount, from.currency, to.currency, toField, user.id);
    received = q.toAmount;
    rate = q.rate;
    spread = q.spread;
    quoteId = q.id;
  }
  const legs = await call.legs(move(call.walletSide(from, amount), call.walletSide(to, received), spread));
  const common = {
    rate,
    toWalletId: to.id,
    toAmount: received,
    toCurrency: to.currency,
    spreadAmount: from.currency === to.currency ? null : spread,
    quoteId,
    description: m.description,
  };
  const out = call.draft(user, {
    type,
    walletId: from.id,
    amount,
    currency: from.currency,
    baseAmount,
    legs,
    ...common,
  });
  if (type === "conversion") return { kind: "create", rows: [out] };
  const recipient = await call.users.get(to.userId);
  const incoming = call.draftRelated(recipient, {
    type,
    walletId: to.id,
    amount: received,
    currency: to.currency,
    chargedAmount: received,
    chargedCurrency: to.currency,
    baseAmount: to.currency === from.currency ? baseAmount : await call.baseOf(received, to.currency),
    direction: "incoming",
    counterpartyUserId: user.id,
    relatedTransactionId: out.id,
    // The incoming side is driven by the outgoing one and never taken over by recovery on its own.
    stage: "done",
    leaseUntil: null,
    ...common,
  });
  const outgoing: Transaction = {
    ...out,
    direction: "outgoing",
    counterpartyUserId: recipient.id,
    relatedTransactionId: incoming.id,
  };
  return { kind: "create", rows: [outgoing, incoming] };
}
