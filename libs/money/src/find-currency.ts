import type { CurrencyInfo } from "./currencies.js";
import { currencies } from "./currencies.js";

/**
 * Looks up an active ISO 4217 currency. The code must be exactly three upper-case letters: "myr" is not found,
 * because silently normalising here would let differently-cased codes reach storage; callers normalise first.
 */
export function findCurrency(code: string): CurrencyInfo | undefined {
  return typeof code === "string" ? currencies.get(code) : undefined;
}
