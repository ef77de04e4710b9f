import type { Decimal as DecimalJs } from "decimal.js";
import { currency } from "./currency.js";
import { Decimal } from "./decimal.js";
import { ExactDecimal } from "./exact-decimal.js";
import { MoneyError } from "./money-error.js";
import { parseRate } from "./parse-rate.js";
import { quoteInput } from "./quote-input.js";
import { requirePositiveRate } from "./require-positive-rate.js";

/**
 * How a conversion result that falls between two minor units is rounded.
 * - "half-even": to the nearest minor unit, ties to the even one (banker's rounding, no bias over many
 *   conversions);
 * - "down": towards zero (truncate);
 * - "up": away from zero.
 */
export type RoundingMode = "half-even" | "down" | "up";

const DECIMAL_ROUNDING: Record<RoundingMode, DecimalJs.Rounding> = {
  "half-even": Decimal.ROUND_HALF_EVEN,
  down: Decimal.ROUND_DOWN,
  up: Decimal.ROUND_UP,
};

/**
 * Converts an amount in minor units of `from` into minor units of `to` at `rate` (units of `to` per one unit of
 * `from`, e.g. USD->MYR 4.7125), adjusting for differing minor units (JPY has 0, MYR 2, KWD 3).
 *
 * The product minor * rate * 10^(to.minorUnits - from.minorUnits) is computed exactly, whatever the size of
 * `minor`, and rounded once, to whole minor units of `to`.
 *
 * @param rate a rate string (validated by {@link parseRate}: positive, at most 12 decimals) or a positive
 *   finite Decimal (any number of decimals, used as given).
 * @param rounding default "half-even".
 * @throws MoneyError UNKNOWN_CURRENCY (field "currency"), INVALID_AMOUNT (minor not a bigint), INVALID_RATE.
 */
export function convertAmount(
  minor: bigint,
  from: string,
  to: string,
  rate: string | Decimal,
  rounding: RoundingMode = "half-even",
): bigint {
  const source = currency(from);
  const target = currency(to);
  if (typeof minor !== "bigint") {
    throw new MoneyError("INVALID_AMOUNT", `invalid minor amount ${quoteInput(minor)}: expected a bigint`, {
      field: "amount",
    });
  }
  const decimalRounding = DECIMAL_ROUNDING[rounding];
  if (decimalRounding === undefined) {
    throw new RangeError(`unknown rounding mode ${quoteInput(rounding)}`);
  }
  const factor = typeof rate === "string" ? parseRate(rate) : requirePositiveRate(rate);
  const exact = new ExactDecimal(minor)
    .times(factor)
    .times(new ExactDecimal(`1e${target.minorUnits - source.minorUnits}`));
  return BigInt(exact.toDecimalPlaces(0, decimalRounding).toFixed(0));
}
