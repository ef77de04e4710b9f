import { Decimal } from "./decimal.js";
import { ExactDecimal } from "./exact-decimal.js";
import { MoneyError } from "./money-error.js";
import { RATE_DECIMALS } from "./parse-rate.js";
import { requirePositiveRate } from "./require-positive-rate.js";

const SCALE = new ExactDecimal(`1e${RATE_DECIMALS}`);
const UNIT = new ExactDecimal(`1e-${RATE_DECIMALS}`);

/**
 * Returns 1 / rate rounded half-even to 12 decimals, the precision rates are stored and quoted with, so an
 * inverted rate can be persisted, compared and formatted like any admin-set rate. The rounding is exact (one
 * rounding of the true quotient, no intermediate precision), so it never depends on the Decimal configuration.
 *
 * @throws MoneyError INVALID_RATE (field "rate") if `rate` is not a finite Decimal > 0, or if its inverse rounds to
 *   zero at 12 decimals (rate above 2e12).
 */
export function invertRate(rate: Decimal): Decimal {
  const divisor = new ExactDecimal(requirePositiveRate(rate));
  // q = trunc(10^12 / rate) is exact (integer-mode division); the remainder decides the half-even step.
  const quotient = SCALE.divToInt(divisor);
  const twiceRemainder = SCALE.minus(quotient.times(divisor)).times(2);
  const comparison = twiceRemainder.comparedTo(divisor);
  const roundUp = comparison > 0 || (comparison === 0 && !quotient.mod(2).isZero());
  const scaled = roundUp ? quotient.plus(1) : quotient;
  if (scaled.isZero()) {
    throw new MoneyError(
      "INVALID_RATE",
      `inverse of rate ${rate.toFixed()} rounds to zero at ${RATE_DECIMALS} decimals`,
      {
        field: "rate",
      },
    );
  }
  return new Decimal(scaled.times(UNIT));
}
