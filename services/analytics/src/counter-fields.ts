// Every counter analytics keeps, declared once: projections.ts writes them through these codecs and the reports
// read them back through the same ones. The stored names (see counter-codec.ts) are what Redis and Postgres
// already hold, e.g. "purchase|groceries|MYR|a", "top_up|visa|MYR|n", "decision|approve|b".
import type { KeyOf, TaggedKey } from "./counter-codec.js";
import { fieldCodec, TEXT, taggedCodec } from "./counter-codec.js";

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
export type PlatformType = (typeof PLATFORM_TYPES)[number];

/** Fraud decisions as statistics name them. */
export const DECISION_NAMES = ["approve", "review", "decline"] as const;

/**
 * What a transaction counter holds: `n` the count, `a` the amount in the transaction's own currency, `b` the
 * base amount (in the base currency), both in minor units.
 */
const MONEY_METRICS = ["n", "a", "b"] as const;

const USER_LAYOUT = [
  ["kind", USER_KINDS],
  /** The merchant category for purchases and refunds, else empty. */
  ["category", TEXT],
  ["currency", TEXT],
  ["metric", MONEY_METRICS],
] as const;

/** A user's counter (scope `u:<user>`, on days in the transaction's time zone): `<kind>|<category>|<currency>|<metric>`. */
export const userField = fieldCodec(USER_LAYOUT);
export type UserField = KeyOf<typeof USER_LAYOUT>;

const PLATFORM_LAYOUT = [
  ["type", PLATFORM_TYPES],
  /** Empty for money that stayed inside the platform. */
  ["provider", TEXT],
  ["currency", TEXT],
  ["metric", MONEY_METRICS],
] as const;

/** A platform counter (scope `p`, UTC days): `<type>|<provider>|<currency>|<metric>`. */
export const platformField = fieldCodec(PLATFORM_LAYOUT);
export type PlatformField = KeyOf<typeof PLATFORM_LAYOUT>;

/** Score buckets: scores 0-9, 10-19, ..., 90-100. */
export const SCORE_BUCKETS = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"] as const;

const FRAUD_LAYOUTS = {
  /** Scores counted. */
  scored: [["metric", ["n"]]],
  /** The scores added up. */
  score: [["metric", ["sum"]]],
  /** What the caller was told (`approve`, `review`, `decline`, `unspecified`): count and base amount. */
  decision: [
    ["decision", TEXT],
    ["metric", ["n", "b"]],
  ],
  /** What the rules alone decided (a shadow score's caller was told otherwise): count and base amount. */
  rule_decision: [
    ["decision", TEXT],
    ["metric", ["n", "b"]],
  ],
  /** Scores made in shadow mode. */
  shadow: [["metric", ["n"]]],
  /** Scores a rule flagged, per rule. */
  flag: [
    ["rule", TEXT],
    ["metric", ["n"]],
  ],
  /** Scores per bucket of ten. */
  bucket: [
    ["bucket", SCORE_BUCKETS],
    ["metric", ["n"]],
  ],
  /** An analyst's review decisions (`approve`, `reject`, `unspecified`). */
  review: [
    ["decision", TEXT],
    ["metric", ["n"]],
  ],
} as const;

/** A fraud counter (scope `f`, UTC days), e.g. `scored|n`, `decision|approve|b`, `flag|<rule>|n`. */
export const fraudField = taggedCodec(FRAUD_LAYOUTS);
export type FraudField = TaggedKey<typeof FRAUD_LAYOUTS>;
