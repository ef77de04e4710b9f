import { currency } from "./currency.js";
import { MoneyError } from "./money-error.js";
import { quoteInput } from "./quote-input.js";

// ASCII digits only (no `u` flag, so \d is [0-9]); no exponent, spaces, '+', '.5' or '5.'.
const AMOUNT = /^(-?)(\d+)(?:\.(\d+))?$/;

/**
 * The largest amount magnitude in minor units: what a signed 64-bit integer holds (2^63 - 1), the width of
 * every amount column (Postgres BIGINT) and of the ledger's arithmetic. Larger amounts are refused at parse
 * time, so they never reach a database as an overflow.
 */
export const MAX_MINOR = 2n ** 63n - 1n;

// The longest text that can still be in range: 19 digits of MAX_MINOR, a sign, a point and leading zeros
// leave it far below this; anything longer is refused before a regex or BigInt looks at it.
const MAX_AMOUNT_TEXT = 64;

/**
 * Parses a decimal string in major units (e.g. "45.50" MYR) into bigint minor units (4550n).
 *
 * Grammar: `-?\d+(\.\d+)?`, at most 64 characters; leading zeros are allowed ("007.50"). Fewer decimals than
 * the currency's minor units are padded ("45.5" -> 4550n). The magnitude in minor units is at most
 * {@link MAX_MINOR} (2^63 - 1, a Postgres BIGINT): "92233720368547758.07" USD is the largest USD amount.
 *
 * Strict on precision: more decimals than the currency allows is MoneyError TOO_MANY_DECIMALS even when the
 * extra digits are zeros ("45.500" MYR, "1000.0" JPY), so a client sending sub-minor precision learns about it
 * instead of having it rounded or accepted by accident.
 *
 * @throws MoneyError UNKNOWN_CURRENCY (field "currency"), INVALID_AMOUNT (also when out of range) or
 * TOO_MANY_DECIMALS (field "amount").
 */
export function parseAmount(value: string, currencyCode: string): bigint {
  const { code, minorUnits } = currency(currencyCode);
  const match = typeof value === "string" && value.length <= MAX_AMOUNT_TEXT ? AMOUNT.exec(value) : null;
  if (match === null) {
    throw new MoneyError(
      "INVALID_AMOUNT",
      `invalid amount ${quoteInput(value)}: expected a decimal string like "45.50"`,
      { field: "amount" },
    );
  }
  const [, sign = "", whole = "", fraction = ""] = match;
  if (fraction.length > minorUnits) {
    throw new MoneyError(
      "TOO_MANY_DECIMALS",
      `amount ${quoteInput(value)} has ${fraction.length} decimals but ${code} allows at most ${minorUnits}`,
      { field: "amount" },
    );
  }
  const magnitude = BigInt(whole + fraction.padEnd(minorUnits, "0"));
  if (magnitude > MAX_MINOR) {
    throw new MoneyError(
      "INVALID_AMOUNT",
      `amount ${quoteInput(value)} is out of range: at most ${MAX_MINOR} minor units of ${code}`,
      { field: "amount" },
    );
  }
  return sign === "-" ? -magnitude : magnitude;
}
