import { findCurrency, isMoneyError, parseAmount } from "@fintech/money";
import type { ValidationIssue } from "@fintech/platform";
import { defineValidation } from "@fintech/platform";
import { TransactionType } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import { WalletService } from "@fintech/proto/fintech/wallet/v1/wallet_pb.js";
import { isUuid } from "./ids.js";

// The wallet's request rules, in one place at the RPC edge: handlers may assume ids are UUIDs, codes are
// ISO 4217 codes (any case), amounts are positive decimals (and parse in their currency where the request
// names it) and texts fit. Rules that need stored state (which wallet, which currency it is in, limits) are
// the service's.

type Issues = ValidationIssue[];

const CODE = /^[A-Za-z]{3}$/;
const DECIMAL = /^\d+(\.\d+)?$/;
const MAX_TEXT = 500;

function uuid(field: string, value: string, opts: { optional?: boolean } = {}): Issues {
  if (value === "" && opts.optional) return [];
  return isUuid(value) ? [] : [{ field, message: "must be an id (a UUID)" }];
}

function currencyCode(field: string, value: string, opts: { optional?: boolean } = {}): Issues {
  if (value === "" && opts.optional) return [];
  return CODE.test(value) && findCurrency(value.toUpperCase())
    ? []
    : [{ field, message: "must be an ISO 4217 currency code such as MYR" }];
}

/** A positive decimal; in `currency` too when it is a known code. */
function amount(field: string, value: string, currency?: string, opts: { optional?: boolean } = {}): Issues {
  if (value === "" && opts.optional) return [];
  if (!DECIMAL.test(value)) return [{ field, message: 'must be a positive decimal such as "45.50"' }];
  if (currency !== undefined && CODE.test(currency) && findCurrency(currency.toUpperCase())) {
    try {
      if (parseAmount(value, currency.toUpperCase()) <= 0n)
        return [{ field, message: "must be greater than zero" }];
    } catch (err) {
      if (!isMoneyError(err)) throw err;
      return [{ field, message: err.message }];
    }
  } else if (!/[1-9]/.test(value)) {
    return [{ field, message: "must be greater than zero" }];
  }
  return [];
}

function text(field: string, value: string, max = MAX_TEXT): Issues {
  return value.length > max ? [{ field, message: `must be at most ${max} characters` }] : [];
}

const PAYMENT_TYPES = new Set<TransactionType>([
  TransactionType.PURCHASE,
  TransactionType.TOP_UP,
  TransactionType.WITHDRAWAL,
]);

export const walletValidation = defineValidation(WalletService, {
  createWallet: (r) => currencyCode("currency", r.currency),
  getWallet: (r) => uuid("id", r.id),
  getWalletBalance: (r) => uuid("id", r.id),
  // A malformed id is refused naming it, as on every route with an id, not looked up and found missing.
  getUserBalance: (r) => (r.userId === "me" ? [] : uuid("user_id", r.userId)),
  fundWallet: (r) => [
    ...uuid("id", r.id),
    ...amount("amount", r.amount),
    ...text("source", r.source, 64),
    ...text("description", r.description),
  ],
  withdrawFromWallet: (r) => [
    ...uuid("id", r.id),
    ...amount("amount", r.amount),
    ...text("destination", r.destination, 64),
    ...text("description", r.description),
  ],
  convertCurrency: (r) => [
    ...uuid("id", r.id),
    ...currencyCode("to_currency", r.toCurrency),
    ...amount("amount", r.amount),
  ],
  listWalletTransactions: (r) => uuid("id", r.id),
  createTransfer: (r) => [
    ...uuid("from_wallet_id", r.fromWalletId),
    ...uuid("to_wallet_id", r.toWalletId),
    ...currencyCode("currency", r.currency, { optional: true }),
    ...amount("amount", r.amount, r.currency || undefined),
    ...text("description", r.description),
  ],
  createTransaction: (r) => {
    const issues = [
      ...currencyCode("currency", r.currency),
      ...amount("amount", r.amount, r.currency),
      ...uuid("wallet_id", r.walletId, { optional: true }),
      ...text("merchant_name", r.merchantName, 200),
      ...text("merchant_category", r.merchantCategory, 64),
      ...text("description", r.description),
    ];
    if (!PAYMENT_TYPES.has(r.transactionType)) {
      issues.push({ field: "transaction_type", message: "must be one of: purchase, top_up, withdrawal" });
    } else if (r.transactionType !== TransactionType.PURCHASE) {
      // Merchant fields on a top-up or withdrawal were once kept as its provider, which then showed up in
      // the stats as a made-up provider: a field that does not apply is refused instead of reinterpreted.
      const type = r.transactionType === TransactionType.TOP_UP ? "top_up" : "withdrawal";
      for (const [field, value] of [
        ["merchant_name", r.merchantName],
        ["merchant_category", r.merchantCategory],
      ] as const) {
        if (value !== "") issues.push({ field, message: `does not apply to a ${type} (only to a purchase)` });
      }
    }
    return issues;
  },
  getTransaction: (r) => uuid("id", r.id),
  listTransactions: (r) => (r.userId === "me" ? [] : uuid("user_id", r.userId, { optional: true })),
  updateTransaction: (r) => uuid("id", r.id),
  refundTransaction: (r) => [
    ...uuid("id", r.id),
    ...amount("amount", r.amount, undefined, { optional: true }),
    ...text("reason", r.reason),
  ],
  payOutWallet: (r) => [
    ...uuid("id", r.id),
    ...amount("amount", r.amount, undefined, { optional: true }),
    ...(r.destination.trim() === "" ? [{ field: "destination", message: "is required" }] : []),
    ...text("destination", r.destination, 64),
    ...(r.reason.trim() === "" ? [{ field: "reason", message: "is required" }] : text("reason", r.reason)),
  ],
  reverseTransaction: (r) => [
    ...uuid("id", r.id),
    ...(r.reason.trim() === "" ? [{ field: "reason", message: "is required" }] : text("reason", r.reason)),
  ],
});
