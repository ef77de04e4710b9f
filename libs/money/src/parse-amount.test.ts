import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { currency } from "./currency.js";
import { Decimal } from "./decimal.js";
import { formatAmount } from "./format-amount.js";
import { parseAmount } from "./parse-amount.js";
import { currencyCode } from "./test/arbitraries.js";
import { expectMoneyError } from "./test/expect-money-error.js";

describe("parseAmount", () => {
  it.each([
    ["45.50", "MYR", 4550n],
    ["45.5", "MYR", 4550n],
    ["45", "MYR", 4500n],
    ["007.50", "MYR", 750n],
    ["0", "MYR", 0n],
    ["-0.00", "MYR", 0n],
    ["-0.05", "MYR", -5n],
    ["-12.3", "USD", -1230n],
    ["1000", "JPY", 1000n],
    ["1.234", "KWD", 1234n],
    ["0.001", "BHD", 1n],
    ["1.2345", "CLF", 12345n],
    ["92233720368547758.07", "USD", 9223372036854775807n],
    ["-9223372036854775807", "JPY", -9223372036854775807n],
    ["00000000000000000000000000000000000000000001.00", "MYR", 100n],
  ])("parses %j %s as %s minor units", (value, code, expected) => {
    expect(parseAmount(value, code)).toBe(expected);
  });

  it.each([
    "",
    "-",
    ".5",
    "5.",
    "+5",
    " 5",
    "5 ",
    "1e3",
    "1E3",
    "1,000.00",
    "1_000",
    "--1",
    "0x10",
    "Infinity",
    "NaN",
    "١٢",
    "5..0",
    "-.5",
  ])("rejects %j as INVALID_AMOUNT", (value) => {
    expectMoneyError(() => parseAmount(value, "MYR"), "INVALID_AMOUNT", "amount");
  });

  it.each([
    ["92233720368547758.08", "USD"],
    ["9223372036854775808", "JPY"],
    ["-9223372036854775808", "JPY"],
    ["99999999999999999999999999999.99", "MYR"],
    ["123456789012345678901234567890.12", "USD"],
    [`1${"0".repeat(100)}`, "MYR"],
  ])("rejects %j %s as INVALID_AMOUNT: beyond 64-bit minor units", (value, code) => {
    expectMoneyError(() => parseAmount(value, code), "INVALID_AMOUNT", "amount");
  });

  it("refuses a long string before parsing it", () => {
    expectMoneyError(() => parseAmount(`0${"0".repeat(100)}.5`, "MYR"), "INVALID_AMOUNT", "amount");
  });

  it("rejects non-string input at runtime", () => {
    expectMoneyError(() => parseAmount(45.5 as unknown as string, "MYR"), "INVALID_AMOUNT");
  });

  it.each([
    ["45.505", "MYR"],
    ["45.500", "MYR"],
    ["1000.0", "JPY"],
    ["1.2340", "KWD"],
    ["-0.000", "USD"],
    ["1.23456", "CLF"],
  ])("rejects %j %s as TOO_MANY_DECIMALS, trailing zeros included", (value, code) => {
    expectMoneyError(() => parseAmount(value, code), "TOO_MANY_DECIMALS", "amount");
  });

  it("checks the currency first, in exact upper case", () => {
    expectMoneyError(() => parseAmount("1.00", "myr"), "UNKNOWN_CURRENCY", "currency");
    expectMoneyError(() => parseAmount("not a number", "XYZ"), "UNKNOWN_CURRENCY");
  });

  it("keeps error messages short for huge inputs", () => {
    try {
      parseAmount(`${"9".repeat(10_000)}x`, "USD");
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message.length).toBeLessThan(200);
    }
  });

  it("property: formatting a parsed amount gives the canonical string of the same value", () => {
    const amount = currencyCode.chain((code) => {
      const units = currency(code).minorUnits;
      return fc
        .tuple(
          fc.boolean(),
          fc.string({ unit: fc.constantFrom(..."0123456789"), minLength: 1, maxLength: 30 }),
          fc.option(
            fc.string({
              unit: fc.constantFrom(..."0123456789"),
              minLength: 1,
              maxLength: Math.max(units, 1),
            }),
          ),
        )
        .filter(([, , fraction]) => fraction === null || fraction.length <= units)
        .map(([negative, whole, fraction]) => ({
          code,
          units,
          text: `${negative ? "-" : ""}${whole}${fraction === null ? "" : `.${fraction}`}`,
        }));
    });
    fc.assert(
      fc.property(amount, ({ code, units, text }) => {
        const formatted = formatAmount(parseAmount(text, code), code);
        const canonical = units === 0 ? /^-?(0|[1-9]\d*)$/ : new RegExp(`^-?(0|[1-9]\\d*)\\.\\d{${units}}$`);
        expect(formatted).toMatch(canonical);
        expect(new Decimal(formatted).equals(new Decimal(text))).toBe(true);
        expect(formatted.startsWith("-")).toBe(new Decimal(text).isNegative() && !new Decimal(text).isZero());
      }),
    );
  });
});
