import { Decimal } from "./decimal.js";
import { ExactDecimal } from "./exact-decimal.js";
import { MoneyError } from "./money-error.js";
import { RATE_DECIMALS } from "./parse-rate.js";
import { quoteInput } from "./quote-input.js";

/**
 * Formats a rate as a plain decimal string: never exponent notation, trailing zeros trimmed, rounded half-even
 * to at most 12 decimals (the precision rates are stored with). "4.712500" -> "4.7125", 1e-7 -> "0.0000001".
 * Any finite value is accepted; one below 5e-13 formats as "0", which {@link parseRate} would refuse.
 *
 * @throws MoneyError INVALID_RATE (field "rate") for NaN, ±Infinity or a non-Decimal.
 */
export function formatRate(d: Decimal): string {
  if (!Decimal.isDecimal(d) || !d.isFinite()) {
    throw new MoneyError("INVALID_RATE", `cannot format rate ${quoteInput(d)}: expected a finite Decimal`, {
      field: "rate",
    });
  }
  // Plain toFixed() prints the exact digits, which decimal.js keeps without trailing zeros; "-0" is normalised.
  const text = new ExactDecimal(d).toDecimalPlaces(RATE_DECIMALS, Decimal.ROUND_HALF_EVEN).toFixed();
  return text === "-0" ? "0" : text;
}
