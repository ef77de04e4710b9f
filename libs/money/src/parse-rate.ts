import { Decimal } from "./decimal.js";
import { MoneyError } from "./money-error.js";
import { quoteInput } from "./quote-input.js";

/** Decimals a rate may carry: rates are stored and quoted with 12 decimals (NUMERIC(_, 12) in SQL). */
export const RATE_DECIMALS = 12;

const RATE = /^\d+(?:\.(\d+))?$/;

/**
 * Parses an exchange rate ("4.7125" = 4.7125 units of the target per unit of the source) into a
 * {@link Decimal}. Grammar `\d+(\.\d+)?` (no sign, exponent or spaces; leading zeros allowed), at most 12
 * decimals (even trailing zeros beyond 12 are refused, as for amounts), and strictly positive.
 *
 * @throws MoneyError INVALID_RATE (field "rate").
 */
export function parseRate(value: string): Decimal {
  const match = typeof value === "string" ? RATE.exec(value) : null;
  if (match === null) {
    throw new MoneyError(
      "INVALID_RATE",
      `invalid rate ${quoteInput(value)}: expected a decimal string like "4.7125"`,
      {
        field: "rate",
      },
    );
  }
  const fraction = match[1] ?? "";
  if (fraction.length > RATE_DECIMALS) {
    throw new MoneyError(
      "INVALID_RATE",
      `rate ${quoteInput(value)} has ${fraction.length} decimals, at most ${RATE_DECIMALS} are allowed`,
      { field: "rate" },
    );
  }
  const rate = new Decimal(value);
  if (rate.isZero()) {
    throw new MoneyError("INVALID_RATE", `rate ${quoteInput(value)} must be greater than zero`, {
      field: "rate",
    });
  }
  return rate;
}
