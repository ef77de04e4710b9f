import { MoneyError } from "./money-error.js";
import { parseAmount } from "./parse-amount.js";
import { quoteInput } from "./quote-input.js";

// An IEEE double reproduces any decimal of up to 15 significant digits exactly (DBL_DIG); beyond that the
// number JSON.parse produced may already differ from the digits the client sent.
const MAX_NUMBER_DIGITS = 15;

/**
 * Like {@link parseAmount}, but also accepts a JSON number for clients that send `"amount": 45.5`.
 *
 * A number is read through its shortest round-trip decimal string (`String(n)`), then parsed strictly, so:
 * - NaN and ±Infinity are INVALID_AMOUNT;
 * - numbers that print in exponent form (1e21, 1e-7) are INVALID_AMOUNT;
 * - float artefacts such as 0.1 + 0.2 ("0.30000000000000004") are TOO_MANY_DECIMALS;
 * - numbers whose decimal string has more than 15 significant digits (counting from the first non-zero digit
 *   to the last digit, integer zeros included, so anything >= 1e15) are INVALID_AMOUNT: past that precision the
 *   value may not be what the client wrote, and money is never guessed. Such amounts must be sent as strings.
 *
 * @throws MoneyError UNKNOWN_CURRENCY, INVALID_AMOUNT or TOO_MANY_DECIMALS.
 */
export function parseAmountInput(value: string | number, currencyCode: string): bigint {
  if (typeof value === "string") return parseAmount(value, currencyCode);
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new MoneyError(
      "INVALID_AMOUNT",
      `invalid amount ${quoteInput(value)}: expected a finite number or a decimal string`,
      {
        field: "amount",
      },
    );
  }
  const text = String(value);
  const minor = parseAmount(text, currencyCode);
  const significant = text.replace(/[-.]/g, "").replace(/^0+/, "");
  if (significant.length > MAX_NUMBER_DIGITS) {
    throw new MoneyError(
      "INVALID_AMOUNT",
      `amount ${quoteInput(text)} has more significant digits than a JSON number carries exactly; send it as a string`,
      { field: "amount" },
    );
  }
  return minor;
}
