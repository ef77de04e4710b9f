// What each consumed event adds to the counters. Pure functions: the aggregator decides where the counters go
// (Redis or Postgres) and makes sure each event is applied once.
//
// What counts (so that nothing is counted twice across a transaction's events):
// - wallet.transaction.completed (and an imported row) adds the transaction once, on the day it was created;
// - wallet.transaction.reversed takes exactly that contribution back out (same day, same fields);
// - a refund is its own transaction (type refund) and counts when it completes, as money back on its own day,
//   against the category of the purchase it refunds;
// - wallet.transaction.created, .failed and .refunded (the purchase's refunded_amount changing) add nothing.
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { findCurrency, parseAmount } from "@fintech/money";
import type { ReviewDecided, TransactionScored } from "@fintech/proto/fintech/fraud/v1/events_pb.js";
import { Decision, ReviewDecision } from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import type { TransactionEvent } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import { TransactionType } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import type { ScopeDays } from "./counters.js";
import { addTo, FRAUD_SCOPE, field, PLATFORM_SCOPE, userScope } from "./counters.js";
import { localDate, utcDate } from "./dates.js";

/** Category of purchases and refunds that name none. */
export const UNCATEGORIZED = "uncategorized";

/** A user's kinds of money movement, as fields and the summary name them. */
export const USER_KINDS = [
  "purchase",
  "refund",
  "top_up",
  "withdrawal",
  "transfer_out",
  "transfer_in",
  "conversion",
] as const;
export type UserKind = (typeof USER_KINDS)[number];

/** Transaction types as platform statistics name them. */
export const PLATFORM_TYPES = [
  "top_up",
  "withdrawal",
  "purchase",
  "transfer",
  "conversion",
  "refund",
] as const;

const TYPE_NAMES: Partial<Record<TransactionType, (typeof PLATFORM_TYPES)[number]>> = {
  [TransactionType.TOP_UP]: "top_up",
  [TransactionType.WITHDRAWAL]: "withdrawal",
  [TransactionType.PURCHASE]: "purchase",
  [TransactionType.TRANSFER]: "transfer",
  [TransactionType.CONVERSION]: "conversion",
  [TransactionType.REFUND]: "refund",
};

/** The name platform statistics give a transaction type; undefined for one they do not count. */
export const platformTypeName = (type: TransactionType): string | undefined => TYPE_NAMES[type];

/** A transaction event's amounts in minor units, or why it cannot be counted. */
export type CheckedAmounts =
  | { ok: true; currency: string; amount: bigint; base: bigint }
  | { ok: false; reason: string };

/**
 * Checks a transaction event before it is counted: a known type, a user, a creation time and a non-negative
 * amount that parses in its currency. The base amount is taken from base_amount when it is in the base
 * currency, from amount when the transaction is in the base currency, and is 0 otherwise (counted, not valued).
 */
export function checkTransaction(ev: TransactionEvent, baseCurrency: string): CheckedAmounts {
  if (TYPE_NAMES[ev.type] === undefined) return { ok: false, reason: "unknown transaction type" };
  if (ev.createdAt === undefined) return { ok: false, reason: "no created_at" };
  const currency = ev.amount?.currency ?? "";
  if (findCurrency(currency) === undefined) return { ok: false, reason: `unknown currency "${currency}"` };
  let amount: bigint;
  try {
    amount = parseAmount(ev.amount?.amount ?? "", currency);
  } catch {
    return { ok: false, reason: "amount does not parse" };
  }
  if (amount < 0n) return { ok: false, reason: "negative amount" };
  let base = 0n;
  if (ev.baseAmount !== undefined && ev.baseAmount.currency === baseCurrency) {
    try {
      base = parseAmount(ev.baseAmount.amount, baseCurrency);
    } catch {
      return { ok: false, reason: "base_amount does not parse" };
    }
  } else if (currency === baseCurrency) {
    base = amount;
  }
  return { ok: true, currency, amount, base };
}

/** The user-side kind of a transaction: transfers split by direction. */
export function userKind(ev: TransactionEvent): UserKind | undefined {
  if (ev.type === TransactionType.TRANSFER)
    return ev.direction === "incoming" ? "transfer_in" : "transfer_out";
  const name = TYPE_NAMES[ev.type];
  return name === "transfer" ? undefined : name;
}

/**
 * Adds a checked transaction's contribution into `out`, times `sign` (+1 when it completes, -1 when it is
 * reversed). `category` is the merchant category to count a purchase or refund under.
 *
 * User scope (when there is a user), on the day of created_at in the transaction's time zone:
 * `<kind>|<category>|<currency>|n|a|b` = count, own-currency amount, base amount (category only for purchases
 * and refunds). Platform scope, on the UTC day: `<type>|<provider>|<currency>|n|a|b`; a transfer counts once,
 * on its outgoing side.
 */
export function addTransaction(
  out: ScopeDays,
  ev: TransactionEvent,
  amounts: { currency: string; amount: bigint; base: bigint },
  category: string,
  sign: 1n | -1n,
): void {
  const at = ev.createdAt === undefined ? 0 : timestampMs(ev.createdAt);
  const kind = userKind(ev);
  const type = TYPE_NAMES[ev.type];
  if (kind === undefined || type === undefined) return;
  const { currency, amount, base } = amounts;
  if (ev.userId !== "") {
    const scope = userScope(ev.userId);
    const day = localDate(at, ev.timezone);
    const cat = kind === "purchase" || kind === "refund" ? category || UNCATEGORIZED : "";
    addTo(out, scope, day, field(kind, cat, currency, "n"), sign);
    addTo(out, scope, day, field(kind, cat, currency, "a"), sign * amount);
    addTo(out, scope, day, field(kind, cat, currency, "b"), sign * base);
  }
  if (kind === "transfer_in") return;
  const day = utcDate(at);
  addTo(out, PLATFORM_SCOPE, day, field(type, ev.provider, currency, "n"), sign);
  addTo(out, PLATFORM_SCOPE, day, field(type, ev.provider, currency, "a"), sign * amount);
  addTo(out, PLATFORM_SCOPE, day, field(type, ev.provider, currency, "b"), sign * base);
}

/** When the change an event describes happened (its event time), in Unix milliseconds. */
export function transactionEventTime(ev: TransactionEvent): number {
  const ts = ev.occurredAt ?? ev.createdAt;
  return ts === undefined ? 0 : timestampMs(ts);
}

const DECISIONS: Partial<Record<Decision, string>> = {
  [Decision.APPROVE]: "approve",
  [Decision.REVIEW]: "review",
  [Decision.DECLINE]: "decline",
};

/** Fraud decisions as statistics name them. */
export const DECISION_NAMES = ["approve", "review", "decline"] as const;

/**
 * Adds a fraud score to the fraud scope on the UTC day it was scored: `scored|n`, `score|sum`,
 * `decision|<d>|n|b` (what the caller was told; b = base amount), `rule_decision|<d>|n`, `shadow|n`,
 * `flag|<rule>|n` and `bucket|<0-9>|n` (scores 0-9, ..., 90-100).
 */
export function addScore(out: ScopeDays, ev: TransactionScored, baseCurrency: string): void {
  const ts = ev.scoredAt ?? ev.occurredAt;
  const day = utcDate(ts === undefined ? 0 : timestampMs(ts));
  const score = Math.max(0, Math.min(100, ev.score));
  let base = 0n;
  if (ev.baseAmount?.currency === baseCurrency) {
    try {
      base = parseAmount(ev.baseAmount.amount, baseCurrency);
    } catch {
      base = 0n;
    }
  }
  addTo(out, FRAUD_SCOPE, day, field("scored", "n"), 1n);
  addTo(out, FRAUD_SCOPE, day, field("score", "sum"), BigInt(score));
  const decision = DECISIONS[ev.decision] ?? "unspecified";
  addTo(out, FRAUD_SCOPE, day, field("decision", decision, "n"), 1n);
  addTo(out, FRAUD_SCOPE, day, field("decision", decision, "b"), base);
  const ruleDecision = DECISIONS[ev.ruleDecision] ?? decision;
  addTo(out, FRAUD_SCOPE, day, field("rule_decision", ruleDecision, "n"), 1n);
  addTo(out, FRAUD_SCOPE, day, field("rule_decision", ruleDecision, "b"), base);
  if (ev.shadow) addTo(out, FRAUD_SCOPE, day, field("shadow", "n"), 1n);
  for (const flag of new Set(ev.flags.map((f) => f.rule))) {
    addTo(out, FRAUD_SCOPE, day, field("flag", flag, "n"), 1n);
  }
  addTo(out, FRAUD_SCOPE, day, field("bucket", String(Math.min(9, Math.floor(score / 10))), "n"), 1n);
}

/** Adds an analyst's review decision to the fraud scope on the UTC day it was made: `review|<d>|n`. */
export function addReview(out: ScopeDays, ev: ReviewDecided): void {
  const decision =
    ev.decision === ReviewDecision.APPROVE
      ? "approve"
      : ev.decision === ReviewDecision.REJECT
        ? "reject"
        : "unspecified";
  const day = utcDate(ev.decidedAt === undefined ? 0 : timestampMs(ev.decidedAt));
  addTo(out, FRAUD_SCOPE, day, field("review", decision, "n"), 1n);
}
