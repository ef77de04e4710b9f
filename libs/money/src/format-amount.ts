import { currency } from "./currency.js";
import { MoneyError } from "./money-error.js";
import { quoteInput } from "./quote-input.js";

/**
 * Formats bigint minor units as a decimal string in major units with exactly the currency's minor units as
 * decimals: 4550n MYR -> "45.50", -5n MYR -> "-0.05", 1000n JPY -> "1000", 1n KWD -> "0.001". Zero is never
 * signed. The inverse of {@link parseAmount}.
 *
 * @throws MoneyError UNKNOWN_CURRENCY (field "currency"), INVALID_AMOUNT when `minor` is not a bigint.
 */
export function formatAmount(minor: bigint, currencyCode: string): string {
  const { minorUnits } = currency(currencyCode);
  if (typeof minor !== "bigint") {
    throw new MoneyError("INVALID_AMOUNT", `invalid minor amount ${quoteInput(minor)}: expected a bigint`, {
      field: "amount",
    });
  }
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString().padStart(minorUnits + 1, "0");
  const sign = negative ? "-" : "";
  if (minorUnits === 0) return sign + digits;
  const point = digits.length - minorUnits;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}
