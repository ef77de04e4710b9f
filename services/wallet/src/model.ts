/** The kinds of money movement, as the API names them. */
export const TRANSACTION_TYPES = [
  "top_up",
  "withdrawal",
  "purchase",
  "transfer",
  "conversion",
  "refund",
] as const;
export type TransactionType = (typeof TRANSACTION_TYPES)[number];

/** pending -> completed | failed; completed -> reversed. */
export type TransactionStatus = "pending" | "completed" | "failed" | "reversed";

/** Where a transaction's processing is: nothing in the ledger yet, funds held for a decision, finished. */
export type Stage = "new" | "held" | "done";

/**
 * What fraud said: approve, review or decline; "unscored" while held because fraud did not answer (the
 * recovery pass asks again); "" for transactions that are not scored.
 */
export type FraudDecision = "" | "approve" | "review" | "decline" | "unscored";

export type UserStatus = "active" | "suspended" | "closed" | "deleted";

export interface User {
  id: string;
  status: UserStatus;
  /** IANA time zone; days and limits are in it. */
  timezone: string;
  defaultCurrency: string;
}

export interface Wallet {
  id: string;
  userId: string;
  currency: string;
  status: "active" | "closed";
  isDefault: boolean;
  createdAt: Date;
}

/** A wallet's balance in minor units: available + pending = posted. */
export interface Balance {
  available: bigint;
  /** Outgoing money held for a decision. */
  pending: bigint;
  posted: bigint;
  /** Incoming money held for a decision. */
  incoming: bigint;
}

/** A wallet with its balance (from the ledger). */
export interface WalletView {
  wallet: Wallet;
  balance: Balance;
}

/** One ledger transfer of a transaction, by account id; amounts in minor units of `currency`. */
export interface Leg {
  debit: string;
  credit: string;
  amount: bigint;
  currency: string;
}

export interface Transaction {
  id: string;
  userId: string;
  walletId: string;
  type: TransactionType;
  status: TransactionStatus;
  stage: Stage;
  leaseUntil: Date | null;
  /** The transaction's own amount, in minor units of currency. */
  amount: bigint;
  currency: string;
  /** What the wallet was charged or credited, in minor units of chargedCurrency (the wallet's). */
  chargedAmount: bigint;
  chargedCurrency: string;
  /** The rate used when currencies differ; "" otherwise. */
  rate: string;
  toWalletId: string | null;
  toAmount: bigint | null;
  toCurrency: string | null;
  spreadAmount: bigint | null;
  quoteId: string | null;
  counterpartyUserId: string | null;
  relatedTransactionId: string | null;
  direction: "" | "outgoing" | "incoming";
  merchantName: string;
  merchantCategory: string;
  source: string;
  description: string;
  tags: string[];
  reason: string;
  originalTransactionId: string | null;
  refundedAmount: bigint;
  /** amount in minor units of baseCurrency at the rate of the moment. */
  baseAmount: bigint;
  baseCurrency: string;
  timezone: string;
  /** The user's local day (YYYY-MM-DD) the transaction counts on towards the daily limit; null if it does not. */
  limitDay: string | null;
  needsScore: boolean;
  fraudScore: number;
  fraudFlags: string[];
  fraudDecision: FraudDecision;
  failureReason: string;
  legs: Leg[];
  createdAt: Date;
  updatedAt: Date;
}

/** The types that count towards the daily spending limit (outgoing transfers only). */
export const LIMITED_TYPES: ReadonlySet<TransactionType> = new Set(["purchase", "withdrawal", "transfer"]);

/** The types fraud scores (outgoing transfers only). */
export const SCORED_TYPES: ReadonlySet<TransactionType> = new Set(["purchase", "withdrawal", "transfer"]);
