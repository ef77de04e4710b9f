import { Decimal } from "./decimal.js";
import { MoneyError } from "./money-error.js";
import { quoteInput } from "./quote-input.js";

/**
 * Checks that a caller-built Decimal is a usable rate (finite, > 0) and returns it as an instance of our clone,
 * so later arithmetic runs under our configuration even if it came from the global decimal.js class.
 */
export function requirePositiveRate(rate: Decimal): Decimal {
  if (!Decimal.isDecimal(rate) || !rate.isFinite() || !rate.isPositive() || rate.isZero()) {
    throw new MoneyError(
      "INVALID_RATE",
      `invalid rate ${quoteInput(rate)}: expected a finite Decimal greater than zero`,
      {
        field: "rate",
      },
    );
  }
  return new Decimal(rate);
}
