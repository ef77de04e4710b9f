import { currency } from "./currency.js";
import { MoneyError } from "./money-error.js";
import { quoteInput } from "./quote-input.js";

// ASCII digits only (no `u` flag, so \d is [0-9]); no exponent, spaces, '+', '.5' or '5.'.
const AMOUNT = /^(-?)(\d+)(?:\.(\d+))?$/;

/**
 * Parses a decimal string in major units (e.g. "45.50" MYR) into bigint minor units (4550n).
 *
 * Grammar: `-?\d+(\.\d+)?`; leading zeros are allowed ("007.50"), any size is allowed (amounts beyond 2^64 parse
 * exactly). Fewer decimals than the currency's minor units are padded ("45.5" -> 4550n).
 *
 * Strict on precision: more decimals than the currency allows is MoneyError TOO_MANY_DECIMALS even when the
 * extra digits are zeros ("45.500" MYR, "1000.0" JPY), so a client sending sub-minor precision learns about it
 * instead of having it rounded or accepted by accident.
 *
 * @throws MoneyError UNKNOWN_CURRENCY (field "currency"), INVALID_AMOUNT or TOO_MANY_DECIMALS (field "amount").
 */
export function parseAmount(value: string, currencyCode: string): bigint {
  const { code, minorUnits } = currency(currencyCode);
  const match = typeof value === "string" ? AMOUNT.exec(value) : null;
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
  return sign === "-" ? -magnitude : magnitude;
}
