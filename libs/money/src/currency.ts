import type { CurrencyInfo } from "./currencies.js";
import { findCurrency } from "./find-currency.js";
import { MoneyError } from "./money-error.js";
import { quoteInput } from "./quote-input.js";

/**
 * Like {@link findCurrency} but throws MoneyError UNKNOWN_CURRENCY (field "currency") when the code is not an
 * active ISO 4217 code in exact upper case.
 */
export function currency(code: string): CurrencyInfo {
  const info = findCurrency(code);
  if (info === undefined) {
    throw new MoneyError(
      "UNKNOWN_CURRENCY",
      `unknown currency ${quoteInput(code)}: expected an active ISO 4217 code such as "MYR"`,
      {
        field: "currency",
      },
    );
  }
  return info;
}
