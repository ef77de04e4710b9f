import type { CounterField } from "./counter-codec.js";

/** Integer counters of one scope and day: field (see counter-fields.ts) -> count or amount in minor units. */
export type Counters = Map<CounterField, bigint>;

/** Counters per scope, then per day (YYYY-MM-DD). */
export type ScopeDays = Map<string, Map<string, Counters>>;

/** The scope of a user's own aggregates (days in the time zone of each transaction). */
export const userScope = (userId: string): string => `u:${userId}`;
/** The scope of platform statistics (UTC days). */
export const PLATFORM_SCOPE = "p";
/** The scope of fraud statistics (UTC days). */
export const FRAUD_SCOPE = "f";

/** Adds `value` to one field of one scope and day, creating what is missing. */
export function addTo(
  target: ScopeDays,
  scope: string,
  day: string,
  name: CounterField,
  value: bigint,
): void {
  let days = target.get(scope);
  if (days === undefined) {
    days = new Map();
    target.set(scope, days);
  }
  let counters = days.get(day);
  if (counters === undefined) {
    counters = new Map();
    days.set(day, counters);
  }
  counters.set(name, (counters.get(name) ?? 0n) + value);
}

/** Adds every field of `source` into `target`. */
export function addCounters(target: Counters, source: Counters): void {
  for (const [name, value] of source) target.set(name, (target.get(name) ?? 0n) + value);
}

/** Counters as JSON (integers as decimal strings: they may exceed 2^53). */
export function countersToJson(counters: Counters): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of counters) out[name] = value.toString();
  return out;
}

/** Counters from JSON written by {@link countersToJson} (or by Postgres' counters_add). */
export function countersFromJson(json: Record<string, unknown>): Counters {
  const out: Counters = new Map();
  for (const [name, value] of Object.entries(json)) {
    // The names were made by the codec when the counters were written.
    if (typeof value === "string" || typeof value === "number") out.set(name as CounterField, BigInt(value));
  }
  return out;
}
