import { isMoneyError, parseAmount } from "@fintech/money";
import type { ValidationIssue } from "@fintech/platform";

/** enforce: the rules decide; shadow: scores are recorded but every decision returned is approve. */
export type RuleMode = "enforce" | "shadow";

export interface VelocityRuleConfig {
  enabled: boolean;
  points: number;
  /** Fires when the transactions in the window, the scored one included, are more than this. */
  maxCount: number;
  windowSeconds: number;
}

export interface UnusualAmountRuleConfig {
  enabled: boolean;
  points: number;
  /** Decimal string: fires above multiplier x the average. */
  multiplier: string;
  /** Full UTC days before the transaction's day that make the average. */
  lookbackDays: number;
  /** Fewer transactions than this in the lookback: no average, the rule does not fire. */
  minTransactions: number;
}

export interface HighValueRuleConfig {
  enabled: boolean;
  points: number;
  /** Decimal string in the base currency. */
  threshold: string;
}

export interface OffHoursRuleConfig {
  enabled: boolean;
  points: number;
  /** "HH:MM" local time, inclusive. */
  start: string;
  /** "HH:MM" local time, exclusive. */
  end: string;
}

export interface DuplicateRuleConfig {
  enabled: boolean;
  points: number;
  windowSeconds: number;
}

/** The rule set as stored (JSON in rule_versions.rules) and configured. */
export interface RuleConfig {
  mode: RuleMode;
  reviewThreshold: number;
  autoDeclineThreshold: number;
  autoDeclineEnabled: boolean;
  highVelocity: VelocityRuleConfig;
  suspiciousVelocity: VelocityRuleConfig;
  unusualAmount: UnusualAmountRuleConfig;
  highValue: HighValueRuleConfig;
  offHours: OffHoursRuleConfig;
  possibleDuplicate: DuplicateRuleConfig;
}

/** A change to the rule set: what is left out (or undefined) stays. */
export type RulePatch = {
  [K in keyof RuleConfig]?:
    | (RuleConfig[K] extends object
        ? { [F in keyof RuleConfig[K]]?: RuleConfig[K][F] | undefined }
        : RuleConfig[K])
    | undefined;
};

/** One field a version changed; field is the API's snake_case path, e.g. "high_velocity.max_count". */
export interface RuleChange {
  field: string;
  oldValue: string;
  newValue: string;
}

/** The defaults of docs/api.md's business rules: version 1 of every deployment. */
export const DEFAULT_RULES: RuleConfig = {
  mode: "enforce",
  reviewThreshold: 60,
  autoDeclineThreshold: 90,
  autoDeclineEnabled: false,
  highVelocity: { enabled: true, points: 20, maxCount: 5, windowSeconds: 600 },
  suspiciousVelocity: { enabled: true, points: 20, maxCount: 10, windowSeconds: 3600 },
  unusualAmount: { enabled: true, points: 20, multiplier: "3", lookbackDays: 30, minTransactions: 1 },
  highValue: { enabled: true, points: 20, threshold: "10000.00" },
  offHours: { enabled: true, points: 20, start: "23:00", end: "05:00" },
  possibleDuplicate: { enabled: true, points: 0, windowSeconds: 300 },
};

/** Longest window a velocity or duplicate rule may have, in seconds (24 hours). */
export const MAX_WINDOW_SECONDS = 86_400;
/** Longest lookback UNUSUAL_AMOUNT may have, in days. */
export const MAX_LOOKBACK_DAYS = 90;

const NESTED = [
  "highVelocity",
  "suspiciousVelocity",
  "unusualAmount",
  "highValue",
  "offHours",
  "possibleDuplicate",
] as const;

/** `current` with the patch applied; fields the patch leaves undefined keep their value. */
export function applyPatch(current: RuleConfig, patch: RulePatch): RuleConfig {
  const next: RuleConfig = structuredClone(current);
  if (patch.mode !== undefined) next.mode = patch.mode;
  if (patch.reviewThreshold !== undefined) next.reviewThreshold = patch.reviewThreshold;
  if (patch.autoDeclineThreshold !== undefined) next.autoDeclineThreshold = patch.autoDeclineThreshold;
  if (patch.autoDeclineEnabled !== undefined) next.autoDeclineEnabled = patch.autoDeclineEnabled;
  for (const key of NESTED) {
    const part = patch[key];
    if (part === undefined) continue;
    const target = next[key] as unknown as Record<string, unknown>;
    for (const [field, value] of Object.entries(part)) {
      if (value !== undefined && field in target) target[field] = value;
    }
  }
  return next;
}

const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function flatten(rules: RuleConfig): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(rules)) {
    if (typeof value === "object" && value !== null) {
      for (const [field, inner] of Object.entries(value))
        out.set(`${snake(key)}.${snake(field)}`, String(inner));
    } else {
      out.set(snake(key), String(value));
    }
  }
  return out;
}

/** Every field whose value differs between two rule sets, in a stable order. */
export function diffRules(before: RuleConfig, after: RuleConfig): RuleChange[] {
  const a = flatten(before);
  const changes: RuleChange[] = [];
  for (const [field, newValue] of flatten(after)) {
    const oldValue = a.get(field) ?? "";
    if (oldValue !== newValue) changes.push({ field, oldValue, newValue });
  }
  return changes;
}

/** The longest window any velocity or duplicate rule looks back over, in milliseconds. */
export function longestWindowMs(rules: RuleConfig): number {
  return (
    Math.max(
      rules.highVelocity.windowSeconds,
      rules.suspiciousVelocity.windowSeconds,
      rules.possibleDuplicate.windowSeconds,
    ) * 1000
  );
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const MULTIPLIER = /^\d{1,4}(\.\d{1,4})?$/;

/** Minutes after local midnight of an "HH:MM" string, or undefined when it is not one. */
export function minutesOf(hhmm: string): number | undefined {
  const m = HHMM.exec(hhmm);
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}

/** A positive decimal string with at most 4 decimals as numerator / 10^scale. */
export function parseMultiplier(text: string): { numerator: bigint; scale: bigint } | undefined {
  if (!MULTIPLIER.test(text)) return undefined;
  const [whole = "0", fraction = ""] = text.split(".");
  const numerator = BigInt(whole + fraction);
  return numerator > 0n ? { numerator, scale: 10n ** BigInt(fraction.length) } : undefined;
}

function intIn(field: string, value: number, min: number, max: number): ValidationIssue[] {
  return Number.isInteger(value) && value >= min && value <= max
    ? []
    : [{ field, message: `must be an integer from ${min} to ${max}` }];
}

/** What is wrong with a complete rule set (after a patch), with the API's field paths. */
export function checkRules(rules: RuleConfig, baseCurrency: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [
    ...intIn("review_threshold", rules.reviewThreshold, 1, 100),
    ...intIn("auto_decline_threshold", rules.autoDeclineThreshold, 1, 100),
  ];
  if (issues.length === 0 && rules.autoDeclineThreshold < rules.reviewThreshold) {
    issues.push({ field: "auto_decline_threshold", message: "must be at least review_threshold" });
  }
  for (const key of NESTED) {
    issues.push(...intIn(`${snake(key)}.points`, rules[key].points, 0, 100));
  }
  for (const key of ["highVelocity", "suspiciousVelocity"] as const) {
    issues.push(
      ...intIn(`${snake(key)}.max_count`, rules[key].maxCount, 1, 100_000),
      ...intIn(`${snake(key)}.window_seconds`, rules[key].windowSeconds, 1, MAX_WINDOW_SECONDS),
    );
  }
  issues.push(
    ...intIn(
      "possible_duplicate.window_seconds",
      rules.possibleDuplicate.windowSeconds,
      1,
      MAX_WINDOW_SECONDS,
    ),
    ...intIn("unusual_amount.lookback_days", rules.unusualAmount.lookbackDays, 1, MAX_LOOKBACK_DAYS),
    ...intIn("unusual_amount.min_transactions", rules.unusualAmount.minTransactions, 1, 100_000),
  );
  if (!parseMultiplier(rules.unusualAmount.multiplier)) {
    issues.push({
      field: "unusual_amount.multiplier",
      message: "must be a positive decimal with at most 4 decimals, e.g. 3 or 2.5",
    });
  }
  try {
    if (parseAmount(rules.highValue.threshold, baseCurrency) <= 0n) {
      issues.push({ field: "high_value.threshold", message: "must be greater than zero" });
    }
  } catch (err) {
    if (!isMoneyError(err)) throw err;
    issues.push({
      field: "high_value.threshold",
      message: `must be an amount in ${baseCurrency}: ${err.message}`,
    });
  }
  const start = minutesOf(rules.offHours.start);
  const end = minutesOf(rules.offHours.end);
  if (start === undefined) issues.push({ field: "off_hours.start", message: "must be a time HH:MM" });
  if (end === undefined) issues.push({ field: "off_hours.end", message: "must be a time HH:MM" });
  if (start !== undefined && start === end) {
    issues.push({ field: "off_hours.end", message: "must differ from off_hours.start" });
  }
  return issues;
}
