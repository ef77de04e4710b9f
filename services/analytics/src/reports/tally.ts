/** Counts and base amounts per name (a type, a provider, a currency, a decision). */
export type Tally = Map<string, { count: number; amount: bigint }>;

/**
 * Adds one counter into `key`'s entry, creating it: a count (`n`) or the amount metric `amountMetric` (default
 * `b`, the base amount); other metrics only create the entry.
 */
export function tally(t: Tally, key: string, metric: string, value: bigint, amountMetric = "b"): void {
  let e = t.get(key);
  if (e === undefined) {
    e = { count: 0, amount: 0n };
    t.set(key, e);
  }
  if (metric === "n") e.count += Number(value);
  else if (metric === amountMetric) e.amount += value;
}
