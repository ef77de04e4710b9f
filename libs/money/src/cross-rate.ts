import { Decimal } from "./decimal.js";
import { ExactDecimal } from "./exact-decimal.js";
import { MoneyError } from "./money-error.js";
import { RATE_DECIMALS } from "./parse-rate.js";
import { requirePositiveRate } from "./require-positive-rate.js";

/**
 * Cross rate through a pivot: with `a` = A->P and `b` = P->B, returns A->B = a * b, rounded half-even to
 * 12 decimals (the precision rates are stored and quoted with, so a derived rate looks like any other). The
 * product is exact before that single rounding.
 *
 * @throws MoneyError INVALID_RATE (field "rate") if either input is not a finite Decimal > 0, or if the product
 *   rounds to zero at 12 decimals.
 */
export function crossRate(a: Decimal, b: Decimal): Decimal {
  const product = new ExactDecimal(requirePositiveRate(a))
    .times(requirePositiveRate(b))
    .toDecimalPlaces(RATE_DECIMALS, Decimal.ROUND_HALF_EVEN);
  if (product.isZero()) {
    throw new MoneyError(
      "INVALID_RATE",
      `cross rate ${a.toFixed()} x ${b.toFixed()} rounds to zero at ${RATE_DECIMALS} decimals`,
      { field: "rate" },
    );
  }
  return new Decimal(product);
}
