import { formatAmount, parseAmount } from "@fintech/money";
import { localMinutes } from "@fintech/platform";
import type { RuleConfig } from "./rules.js";
import { minutesOf, parseMultiplier } from "./rules.js";

export type Decision = "approve" | "review" | "decline";

export type RuleName =
  | "HIGH_VELOCITY"
  | "SUSPICIOUS_VELOCITY"
  | "UNUSUAL_AMOUNT"
  | "HIGH_VALUE"
  | "OFF_HOURS"
  | "POSSIBLE_DUPLICATE";

/** One rule that fired, with the values it saw (what an analyst reads to see why). */
export interface Flag {
  rule: RuleName;
  points: number;
  values: Record<string, string>;
}

/** A rule set version made ready for scoring: decimals and times parsed once, not per score. */
export interface CompiledRules {
  version: number;
  config: RuleConfig;
  baseCurrency: string;
  highValueMinor: bigint;
  multiplier: { numerator: bigint; scale: bigint };
  offHoursStart: number;
  offHoursEnd: number;
}

/**
 * Parses a stored rule set (checked by checkRules when it was written).
 * @throws Error when it does not parse: a stored version is always valid, so this is a bug.
 */
export function compileRules(version: number, config: RuleConfig, baseCurrency: string): CompiledRules {
  const multiplier = parseMultiplier(config.unusualAmount.multiplier);
  const offHoursStart = minutesOf(config.offHours.start);
  const offHoursEnd = minutesOf(config.offHours.end);
  if (!multiplier || offHoursStart === undefined || offHoursEnd === undefined) {
    throw new Error(`rule set version ${version} does not parse`);
  }
  return {
    version,
    config,
    baseCurrency,
    highValueMinor: parseAmount(config.highValue.threshold, baseCurrency),
    multiplier,
    offHoursStart,
    offHoursEnd,
  };
}

/** The transaction as scoring sees it. */
export interface ScoringInput {
  /** The amount in the base currency, minor units. */
  baseAmountMinor: bigint;
  occurredAt: Date;
  /** IANA time zone (validated). */
  timezone: string;
}

/** Precomputed features of the user at the transaction's time; the scored transaction is in none of them. */
export interface Features {
  /** The user's transactions in the HIGH_VELOCITY window before this one. */
  highVelocityPrior: number;
  /** The user's transactions in the SUSPICIOUS_VELOCITY window before this one. */
  suspiciousVelocityPrior: number;
  /** Transactions with the same signature in the POSSIBLE_DUPLICATE window before this one. */
  duplicatesPrior: number;
  /** Transactions and their base-currency total over the UNUSUAL_AMOUNT lookback days. */
  history: { count: number; totalMinor: bigint };
}

export interface Evaluation {
  /** Sum of the flags' points, capped at 100. */
  score: number;
  flags: Flag[];
  /** What the rules decide for the score (before shadow mode). */
  ruleDecision: Decision;
}

/** "10m", "1h", "90s". */
export function formatWindow(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/** Applies every enabled rule to one transaction. Pure: same inputs, same result. */
export function evaluate(rules: CompiledRules, input: ScoringInput, features: Features): Evaluation {
  const { config } = rules;
  const flags: Flag[] = [];

  const velocity = (rule: RuleName, cfg: RuleConfig["highVelocity"], prior: number) => {
    const count = prior + 1;
    if (cfg.enabled && count > cfg.maxCount) {
      flags.push({
        rule,
        points: cfg.points,
        values: {
          count: String(count),
          threshold: String(cfg.maxCount),
          window: formatWindow(cfg.windowSeconds),
        },
      });
    }
  };
  velocity("HIGH_VELOCITY", config.highVelocity, features.highVelocityPrior);
  velocity("SUSPICIOUS_VELOCITY", config.suspiciousVelocity, features.suspiciousVelocityPrior);

  const { count, totalMinor } = features.history;
  const unusual = config.unusualAmount;
  // amount > multiplier * total / count, kept in integers: amount * count * scale > numerator * total.
  if (
    unusual.enabled &&
    count > 0 &&
    count >= unusual.minTransactions &&
    input.baseAmountMinor * BigInt(count) * rules.multiplier.scale > rules.multiplier.numerator * totalMinor
  ) {
    flags.push({
      rule: "UNUSUAL_AMOUNT",
      points: unusual.points,
      values: {
        amount: formatAmount(input.baseAmountMinor, rules.baseCurrency),
        average: formatAmount(totalMinor / BigInt(count), rules.baseCurrency),
        multiplier: unusual.multiplier,
        transactions: String(count),
        days: String(unusual.lookbackDays),
        currency: rules.baseCurrency,
      },
    });
  }

  if (config.highValue.enabled && input.baseAmountMinor > rules.highValueMinor) {
    flags.push({
      rule: "HIGH_VALUE",
      points: config.highValue.points,
      values: {
        amount: formatAmount(input.baseAmountMinor, rules.baseCurrency),
        threshold: formatAmount(rules.highValueMinor, rules.baseCurrency),
        currency: rules.baseCurrency,
      },
    });
  }

  if (config.offHours.enabled) {
    const local = localMinutes(input.occurredAt, input.timezone);
    const { offHoursStart: start, offHoursEnd: end } = rules;
    const inside = start < end ? local >= start && local < end : local >= start || local < end;
    if (inside) {
      flags.push({
        rule: "OFF_HOURS",
        points: config.offHours.points,
        values: {
          local_time: formatMinutes(local),
          timezone: input.timezone,
          start: config.offHours.start,
          end: config.offHours.end,
        },
      });
    }
  }

  if (config.possibleDuplicate.enabled && features.duplicatesPrior > 0) {
    flags.push({
      rule: "POSSIBLE_DUPLICATE",
      points: config.possibleDuplicate.points,
      values: {
        matches: String(features.duplicatesPrior),
        window: formatWindow(config.possibleDuplicate.windowSeconds),
      },
    });
  }

  const score = Math.min(
    100,
    flags.reduce((sum, f) => sum + f.points, 0),
  );
  return { score, flags, ruleDecision: decide(score, config) };
}

/** The rules' decision for a score: decline only with auto-decline enabled. */
export function decide(score: number, config: RuleConfig): Decision {
  if (config.autoDeclineEnabled && score >= config.autoDeclineThreshold) return "decline";
  if (score >= config.reviewThreshold) return "review";
  return "approve";
}

/** "HH:MM" of minutes after midnight. */
function formatMinutes(minutes: number): string {
  const hh = String(Math.floor(minutes / 60)).padStart(2, "0");
  const mm = String(minutes % 60).padStart(2, "0");
  return `${hh}:${mm}`;
}
