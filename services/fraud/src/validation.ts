import { findCurrency, isMoneyError, parseAmount } from "@fintech/money";
import type { ValidationIssue } from "@fintech/platform";
import { defineValidation, isTimeZone, pageSizeIssues } from "@fintech/platform";
import type { ScoreRequest } from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import {
  FraudService,
  ReviewDecision,
  ReviewStatus,
  RuleMode,
} from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import type { Money } from "@fintech/proto/fintech/money/v1/money_pb.js";
import { TransactionType } from "@fintech/proto/fintech/wallet/v1/events_pb.js";

// The fraud service's request rules, in one place at the RPC edge: handlers may assume ids are set, amounts
// parse and are positive, the base amount is in the base currency, and the time zone is known. Rule values
// are checked on the whole rule set after a change is applied (rules.ts checkRules).

const MAX_ID = 128;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_NOTE = 1000;

function id(field: string, value: string): ValidationIssue[] {
  if (value === "") return [{ field, message: "is required" }];
  return value.length > MAX_ID ? [{ field, message: `must be at most ${MAX_ID} characters` }] : [];
}

function maxLength(field: string, value: string, max: number): ValidationIssue[] {
  return value.length > max ? [{ field, message: `must be at most ${max} characters` }] : [];
}

function money(field: string, value: Money | undefined, only?: string): ValidationIssue[] {
  if (value === undefined) return [{ field, message: "is required" }];
  const code = value.currency;
  if (!findCurrency(code)) {
    return [{ field: `${field}.currency`, message: "must be an ISO 4217 currency code such as MYR" }];
  }
  if (only !== undefined && code !== only) {
    return [{ field: `${field}.currency`, message: `must be ${only}, the base currency` }];
  }
  try {
    if (parseAmount(value.amount, code) > 0n) return [];
    return [{ field: `${field}.amount`, message: "must be greater than zero" }];
  } catch (err) {
    if (!isMoneyError(err)) throw err;
    return [{ field: `${field}.amount`, message: err.message }];
  }
}

function known(field: string, value: number, values: object): ValidationIssue[] {
  return value !== 0 && value in values ? [] : [{ field, message: "is required: one of the listed values" }];
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/** A GetStats bound: RFC 3339 or YYYY-MM-DD (UTC midnight); undefined when empty or malformed. */
export function parseTimeBound(value: string): Date | undefined {
  if (!DATE.test(value) && !RFC3339.test(value)) return undefined;
  const at = new Date(DATE.test(value) ? `${value}T00:00:00Z` : value);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

function timeBound(field: string, value: string): ValidationIssue[] {
  if (value === "" || parseTimeBound(value)) return [];
  return [{ field, message: "must be an RFC 3339 timestamp or a date YYYY-MM-DD" }];
}

/** Most transactions in one ScoreBatch call. */
const MAX_SCORE_BATCH = 500;

/** What is wrong with a transaction to score, its fields named after `prefix`. */
function scoreIssues(prefix: string, r: ScoreRequest, baseCurrency: string): ValidationIssue[] {
  return [
    ...id(`${prefix}transaction_id`, r.transactionId),
    ...id(`${prefix}user_id`, r.userId),
    ...known(`${prefix}type`, r.type, TransactionType),
    ...money(`${prefix}amount`, r.amount),
    ...money(`${prefix}base_amount`, r.baseAmount, baseCurrency),
    ...maxLength(`${prefix}merchant_name`, r.merchantName, 200),
    ...maxLength(`${prefix}merchant_category`, r.merchantCategory, 100),
    ...(r.timezone === "" || isTimeZone(r.timezone)
      ? []
      : [{ field: `${prefix}timezone`, message: "must be an IANA time zone such as Asia/Kuala_Lumpur" }]),
  ];
}

/** The request rules of every FraudService RPC; base amounts must be in `baseCurrency`. */
export function fraudValidation(baseCurrency: string) {
  return defineValidation(FraudService, {
    score: (r) => scoreIssues("", r, baseCurrency),
    scoreBatch: (r) =>
      r.requests.length === 0 || r.requests.length > MAX_SCORE_BATCH
        ? [{ field: "requests", message: `must hold 1 to ${MAX_SCORE_BATCH} transactions` }]
        : r.requests.flatMap((item, i) => scoreIssues(`requests[${i}].`, item, baseCurrency)),
    listReviews: (r) => [
      ...(r.status === 0 || r.status in ReviewStatus
        ? []
        : [{ field: "status", message: "must be open, approved or rejected" }]),
      ...maxLength("user_id", r.userId, MAX_ID),
      ...(r.minScore < 0 || r.minScore > 100
        ? [{ field: "min_score", message: "must be between 0 and 100" }]
        : []),
      ...pageSizeIssues(r.limit),
    ],
    decideReview: (r) => [
      // A path id: malformed is 400 naming it, as on every route with an id (transactions are UUIDs).
      ...(UUID.test(r.transactionId)
        ? []
        : [{ field: "transaction_id", message: "must be a transaction id (a UUID)" }]),
      ...known("decision", r.decision, ReviewDecision),
      ...maxLength("note", r.note, MAX_NOTE),
    ],
    updateRules: (r) => [
      ...(r.mode === undefined ? [] : known("mode", r.mode, RuleMode)),
      ...maxLength("note", r.note, MAX_NOTE),
      ...(r.expectedVersion === undefined || r.expectedVersion >= 1
        ? []
        : [{ field: "expected_version", message: "must be a version number (1 or more)" }]),
    ],
    listRuleVersions: (r) => pageSizeIssues(r.limit),
    getStats: (r) => {
      const issues = [...timeBound("start_time", r.startTime), ...timeBound("end_time", r.endTime)];
      const start = parseTimeBound(r.startTime);
      const end = parseTimeBound(r.endTime);
      if (issues.length === 0 && start && end && start >= end) {
        issues.push({ field: "end_time", message: "must be after start_time" });
      }
      return issues;
    },
  });
}
