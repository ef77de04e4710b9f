import fc from "fast-check";
import { currencies } from "../currencies.js";

/** Every currency code of the list. */
export const currencyCode = fc.constantFrom(...currencies.keys());

/** A minor-unit amount well beyond 2^64 in both directions (up to 61 digits, so products outgrow 64 digits). */
export const hugeMinor = fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n });

/** A positive rate string with up to 12 decimals, between 1e-12 and 10^9. */
export const rateString = fc
  .tuple(
    fc.bigInt({ min: 0n, max: 10n ** 9n }),
    fc.integer({ min: 0, max: 12 }),
    fc.bigInt({ min: 0n, max: 10n ** 12n - 1n }),
  )
  .map(([whole, decimals, fraction]) => {
    const digits = (fraction % 10n ** BigInt(decimals)).toString().padStart(decimals, "0");
    return decimals === 0 ? whole.toString() : `${whole}.${digits}`;
  })
  .filter((s) => /[1-9]/.test(s));

/**
 * Independent reference for convertAmount: pure bigint rational arithmetic on the rate's digits, rounding
 * half-even by comparing twice the remainder with the divisor.
 */
export function referenceConvert(minor: bigint, fromUnits: number, toUnits: number, rate: string): bigint {
  const [whole = "", fraction = ""] = rate.split(".");
  let numerator = minor * BigInt(whole + fraction);
  let denominator = 10n ** BigInt(fraction.length);
  const shift = toUnits - fromUnits;
  if (shift >= 0) numerator *= 10n ** BigInt(shift);
  else denominator *= 10n ** BigInt(-shift);
  const negative = numerator < 0n;
  const magnitude = negative ? -numerator : numerator;
  let quotient = magnitude / denominator;
  const twiceRemainder = (magnitude % denominator) * 2n;
  if (twiceRemainder > denominator || (twiceRemainder === denominator && quotient % 2n === 1n))
    quotient += 1n;
  return negative ? -quotient : quotient;
}
