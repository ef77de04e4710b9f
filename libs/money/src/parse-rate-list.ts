import type { Decimal } from "./decimal.js";
import { findCurrency } from "./find-currency.js";
import { parseRate } from "./parse-rate.js";

/** One fixed rate: 1 `base` = `rate` `quote`. */
export interface RateListItem {
  base: string;
  quote: string;
  rate: Decimal;
}

/**
 * Parses a list of fixed rates as a variable or a command line gives them, "SGD/MYR=3.50,USD/MYR=4.70" (1 SGD =
 * 3.50 MYR; spaces around items and empty items ignored). Each pair is two different ISO 4217 codes of the
 * catalog, each rate one {@link parseRate} accepts.
 *
 * @throws Error naming the first bad item.
 */
export function parseRateList(text: string): RateListItem[] {
  const out: RateListItem[] = [];
  for (const item of text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [, base = "", quote = "", rate = ""] = /^([A-Z]{3})\/([A-Z]{3})=([0-9.]+)$/.exec(item) ?? [];
    if (findCurrency(base) === undefined || findCurrency(quote) === undefined || base === quote) {
      throw new Error(`expected BASE/QUOTE=RATE items such as SGD/MYR=3.50, got "${item}"`);
    }
    try {
      out.push({ base, quote, rate: parseRate(rate) });
    } catch {
      throw new Error(`"${rate}" is not a positive rate with at most 12 decimals`);
    }
  }
  return out;
}
