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
import { localDay } from "@fintech/platform";
import type { ReviewDecided, TransactionScored } from "@fintech/proto/fintech/fraud/v1/events_pb.js";
import { Decision, ReviewDecision } from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import type { TransactionEvent } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import { TransactionType } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import type { FraudField, PlatformType, UserKind } from "./counter-fields.js";
import { fraudField, platformField, SCORE_BUCKETS, userField } from "./counter-fields.js";
import type { ScopeDays } from "./counters.js";
import { addTo, FRAUD_SCOPE, PLATFORM_SCOPE, userScope } from "./counters.js";
import { utcDate } from "./dates.js";

/** Category of purchases and refunds that name none. */
export const UNCATEGORIZED = "uncategorized";

const TYPE_NAMES: Partial<Record<TransactionType, PlatformType>> = {
  [TransactionType.TOP_UP]: "top_up",
  [TransactionType.WITHDRAWAL]: "withdrawal",
  [TransactionType.PURCHASE]: "purchase",
  [TransactionType.TRANSFER]: "transfer",
  [TransactionType.CONVERSION]: "conversion",
  [TransactionType.REFUND]: "refund",
};

/** The name platform statistics give a transaction type; undefined for one they do not count. */
export const platformTypeName = (type: TransactionType): PlatformType | undefined => TYPE_NAMES[type];

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
 * User scope (when there is a user), on the day of created_at in the transaction's time zone: a
 * {@link userField} per metric (count, own-currency amount, base amount; category only for purchases and
 * refunds). Platform scope, on the UTC day: a {@link platformField} per metric; a transfer counts once, on its
 * outgoing side.
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
    const day = localDay(at, ev.timezone);
    const cat = kind === "purchase" || kind === "refund" ? category || UNCATEGORIZED : "";
    const key = { kind, category: cat, currency } as const;
    addTo(out, scope, day, userField.encode({ ...key, metric: "n" }), sign);
    addTo(out, scope, day, userField.encode({ ...key, metric: "a" }), sign * amount);
    addTo(out, scope, day, userField.encode({ ...key, metric: "b" }), sign * base);
  }
  if (kind === "transfer_in") return;
  const day = utcDate(at);
  const key = { type, provider: ev.provider, currency } as const;
  addTo(out, PLATFORM_SCOPE, day, platformField.encode({ ...key, metric: "n" }), sign);
  addTo(out, PLATFORM_SCOPE, day, platformField.encode({ ...key, metric: "a" }), sign * amount);
  addTo(out, PLATFORM_SCOPE, day, platformField.encode({ ...key, metric: "b" }), sign * base);
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

/**
 * Adds a fraud score to the fraud scope on the UTC day it was scored (see {@link fraudField}): scored, score
 * sum, decision (what the caller was told) and rule decision with count and base amount, shadow, one flag per
 * rule and the score's bucket.
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
  const add = (key: FraudField, value: bigint) => addTo(out, FRAUD_SCOPE, day, fraudField.encode(key), value);
  add({ counter: "scored", metric: "n" }, 1n);
  add({ counter: "score", metric: "sum" }, BigInt(score));
  const decision = DECISIONS[ev.decision] ?? "unspecified";
  add({ counter: "decision", decision, metric: "n" }, 1n);
  add({ counter: "decision", decision, metric: "b" }, base);
  const ruleDecision = DECISIONS[ev.ruleDecision] ?? decision;
  add({ counter: "rule_decision", decision: ruleDecision, metric: "n" }, 1n);
  add({ counter: "rule_decision", decision: ruleDecision, metric: "b" }, base);
  if (ev.shadow) add({ counter: "shadow", metric: "n" }, 1n);
  for (const rule of new Set(ev.flags.map((f) => f.rule))) add({ counter: "flag", rule, metric: "n" }, 1n);
  add(
    { counter: "bucket", bucket: SCORE_BUCKETS[Math.min(9, Math.floor(score / 10))] ?? "0", metric: "n" },
    1n,
  );
}

/** Adds an analyst's review decision to the fraud scope on the UTC day it was made. */
export function addReview(out: ScopeDays, ev: ReviewDecided): void {
  const decision =
    ev.decision === ReviewDecision.APPROVE
      ? "approve"
      : ev.decision === ReviewDecision.REJECT
        ? "reject"
        : "unspecified";
  const day = utcDate(ev.decidedAt === undefined ? 0 : timestampMs(ev.decidedAt));
  addTo(out, FRAUD_SCOPE, day, fraudField.encode({ counter: "review", decision, metric: "n" }), 1n);
}
