import { activeUser, requireOpen, walletOf } from "../access.js";
import { invalid } from "../errors.js";
import { move } from "../legs.js";
import type { User, Wallet } from "../model.js";
import type { Call, Create } from "./movement.js";

// The one path of money between a wallet and the world outside the platform: top-ups (in), withdrawals and
// purchases (out), whichever RPC asks for them (FundWallet, WithdrawFromWallet, CreateTransaction, an
// admin's PayOutWallet).

const MERCHANT_CATEGORY = /^[a-z][a-z0-9_]{0,63}$/;

export interface ExternalMovement {
  type: "top_up" | "withdrawal" | "purchase";
  /** Whose transaction it is (the wallet's owner). */
  user: User;
  wallet: Wallet;
  /** As asked, in minor units of `currency` (any supported one): the wallet pays or gets its value. */
  amount: bigint;
  currency: string;
  /** A top-up's source or a withdrawal's destination, and the request field it came in. */
  provider?: { name: string; field: string };
  /** A purchase's merchant (required for one). */
  merchant?: { name: string; category: string };
  description?: string;
  reason?: string;
  /** False for an admin's payout: not scored, not in the owner's daily limit. */
  byOwner?: boolean;
}

/**
 * Plans `m`: the wallet is charged (or credited) the amount at the current mid rate, the base amount is
 * checked against the per-transaction limit, and the other side is the settlement account (top-ups,
 * withdrawals) or merchant clearing (purchases) in the currency asked.
 */
export async function external(call: Call, m: ExternalMovement): Promise<Create> {
  const { type, wallet, amount, currency } = m;
  const charged = await call.rates.convert(amount, currency, wallet.currency);
  if (charged.amount <= 0n)
    throw invalid("amount", "converts to less than the wallet currency's smallest unit");
  const baseAmount =
    wallet.currency === call.settings.baseCurrency ? charged.amount : await call.baseOf(amount, currency);
  call.checkMax(baseAmount);
  const source = m.provider === undefined ? "" : call.provider(m.provider.name, m.provider.field);
  let merchantName = "";
  let merchantCategory = "";
  if (type === "purchase") {
    merchantName = m.merchant?.name.trim() ?? "";
    merchantCategory = m.merchant?.category.trim().toLowerCase() ?? "";
    if (merchantName === "") throw invalid("merchant_name", "is required for a purchase");
    if (!MERCHANT_CATEGORY.test(merchantCategory)) {
      throw invalid("merchant_category", "must be a lower-case word such as food_beverage");
    }
  }
  const mine = call.walletSide(wallet, charged.amount);
  const theirs = call.outside(type === "purchase" ? "merchant_clearing" : "settlement", amount, currency);
  const t = call.draft(m.user, {
    type,
    walletId: wallet.id,
    amount,
    currency,
    chargedAmount: charged.amount,
    chargedCurrency: wallet.currency,
    rate: charged.rate,
    baseAmount,
    merchantName,
    merchantCategory,
    source,
    description: m.description ?? "",
    reason: m.reason ?? "",
    ...(m.byOwner === false && { limitDay: null, needsScore: false }),
    legs: await call.legs(type === "top_up" ? move(theirs, mine) : move(mine, theirs)),
  });
  return { kind: "create", rows: [t] };
}

/**
 * A top-up or withdrawal of the caller's own wallet `walletId` in its currency (FundWallet,
 * WithdrawFromWallet), from or to the provider named in `field`.
 */
export async function ownWallet(
  call: Call,
  req: { type: "top_up" | "withdrawal"; walletId: string; amount: string; description: string },
  provider: { name: string; field: string },
): Promise<Create> {
  const user = await activeUser(call.users, call.principal.userId);
  const wallet = await walletOf(call.users, call.principal, req.walletId.toLowerCase());
  requireOpen(wallet);
  await call.rates.requireSupported(wallet.currency, "currency");
  const amount = call.positive(req.amount, wallet.currency);
  return external(call, {
    type: req.type,
    user,
    wallet,
    amount,
    currency: wallet.currency,
    provider,
    description: req.description,
  });
}
