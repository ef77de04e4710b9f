import { Decimal as DecimalJs } from "decimal.js";

/**
 * The Decimal class every rate of this library is an instance of: a private clone of decimal.js, so the
 * global `Decimal` stays untouched and another library's `Decimal.set()` cannot change our arithmetic.
 *
 * - precision 64 significant digits, rounding half-even: comfortably above a 12-decimal rate times any
 *   realistic amount for callers doing their own arithmetic (conversions in this library are exact anyway).
 * - toExpNeg/toExpPos at their extremes so `toString()` never produces exponent notation, which every decimal
 *   string at our API edge forbids.
 */
export const Decimal: typeof DecimalJs = DecimalJs.clone({
  precision: 64,
  rounding: DecimalJs.ROUND_HALF_EVEN,
  toExpNeg: -9e15,
  toExpPos: 9e15,
});

/** An instance of {@link Decimal} (structurally the decimal.js instance type). */
export type Decimal = DecimalJs;
