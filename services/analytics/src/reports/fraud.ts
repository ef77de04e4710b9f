// Fraud statistics: scoring and review outcomes per UTC day.
import { divideHalfEven, formatAmount } from "@fintech/money";
import { DECISION_NAMES, fraudField } from "../counter-fields.js";
import type { Counters } from "../counters.js";
import { addDays } from "../dates.js";
import type { Tally } from "./tally.js";
import { tally } from "./tally.js";

export interface FraudResult {
  fromDate: string;
  toDate: string;
  currency: string;
  scoredCount: number;
  averageScore: string;
  decisions: Array<{ decision: string; count: number; amount: string }>;
  ruleDecisions: Array<{ decision: string; count: number; amount: string }>;
  shadowCount: number;
  flags: Array<{ rule: string; count: number }>;
  scoreDistribution: Array<{ min: number; max: number; count: number }>;
  reviewsApproved: number;
  reviewsRejected: number;
  days: Array<{
    date: string;
    scoredCount: number;
    approved: number;
    reviewed: number;
    declined: number;
    averageScore: string;
  }>;
}

/** A score average with two decimals, half-even. */
function average(sum: bigint, count: number): string {
  if (count === 0) return "0.00";
  const hundredths = divideHalfEven(sum * 100n, BigInt(count));
  const whole = hundredths / 100n;
  return `${whole}.${String(hundredths % 100n).padStart(2, "0")}`;
}

/** Fraud scoring and review outcomes for every day of [fromDate, toDate]. */
export function fraudReport(
  days: Map<string, Counters>,
  range: { fromDate: string; toDate: string },
  baseCurrency: string,
): FraudResult {
  let scored = 0;
  let scoreSum = 0n;
  let shadow = 0;
  const decisions: Tally = new Map(DECISION_NAMES.map((d) => [d, { count: 0, amount: 0n }]));
  const ruleDecisions: Tally = new Map(DECISION_NAMES.map((d) => [d, { count: 0, amount: 0n }]));
  const flags = new Map<string, number>();
  const buckets = Array.from({ length: 10 }, () => 0);
  const reviews = new Map<string, number>();
  const perDay: FraudResult["days"] = [];
  for (let day = range.fromDate; day <= range.toDate; day = addDays(day, 1)) {
    let dayScored = 0;
    let daySum = 0n;
    const dayDecisions = new Map<string, number>();
    for (const [name, value] of days.get(day) ?? []) {
      const key = fraudField.decode(name);
      if (key === undefined) continue;
      const n = Number(value);
      switch (key.counter) {
        case "scored":
          dayScored += n;
          break;
        case "score":
          daySum += value;
          break;
        case "shadow":
          shadow += n;
          break;
        case "decision":
          tally(decisions, key.decision, key.metric, value);
          if (key.metric === "n") dayDecisions.set(key.decision, (dayDecisions.get(key.decision) ?? 0) + n);
          break;
        case "rule_decision":
          tally(ruleDecisions, key.decision, key.metric, value);
          break;
        case "flag":
          flags.set(key.rule, (flags.get(key.rule) ?? 0) + n);
          break;
        case "bucket": {
          const b = Number(key.bucket);
          buckets[b] = (buckets[b] ?? 0) + n;
          break;
        }
        case "review":
          reviews.set(key.decision, (reviews.get(key.decision) ?? 0) + n);
          break;
      }
    }
    scored += dayScored;
    scoreSum += daySum;
    perDay.push({
      date: day,
      scoredCount: dayScored,
      approved: dayDecisions.get("approve") ?? 0,
      reviewed: dayDecisions.get("review") ?? 0,
      declined: dayDecisions.get("decline") ?? 0,
      averageScore: average(daySum, dayScored),
    });
  }
  const decisionList = (t: Tally) =>
    [...t].map(([decision, e]) => ({
      decision,
      count: e.count,
      amount: formatAmount(e.amount, baseCurrency),
    }));
  return {
    fromDate: range.fromDate,
    toDate: range.toDate,
    currency: baseCurrency,
    scoredCount: scored,
    averageScore: average(scoreSum, scored),
    decisions: decisionList(decisions),
    ruleDecisions: decisionList(ruleDecisions),
    shadowCount: shadow,
    flags: [...flags]
      .filter(([, n]) => n !== 0)
      .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))
      .map(([rule, count]) => ({ rule, count })),
    scoreDistribution: buckets.map((count, i) => ({ min: i * 10, max: i === 9 ? 100 : i * 10 + 9, count })),
    reviewsApproved: reviews.get("approve") ?? 0,
    reviewsRejected: reviews.get("reject") ?? 0,
    days: perDay,
  };
}
