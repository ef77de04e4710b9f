import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatAmount } from "./format-amount.js";
import { MAX_MINOR, parseAmount } from "./parse-amount.js";
import { currencyCode } from "./test/arbitraries.js";
import { expectMoneyError } from "./test/expect-money-error.js";

describe("formatAmount", () => {
  it.each([
    [4550n, "MYR", "45.50"],
    [-5n, "MYR", "-0.05"],
    [0n, "MYR", "0.00"],
    [-0n, "MYR", "0.00"],
    [1n, "USD", "0.01"],
    [-100n, "USD", "-1.00"],
    [1000n, "JPY", "1000"],
    [-7n, "JPY", "-7"],
    [0n, "JPY", "0"],
    [1n, "KWD", "0.001"],
    [-1234n, "KWD", "-1.234"],
    [12345n, "CLF", "1.2345"],
    [2n ** 64n, "USD", "184467440737095516.16"],
    [-(2n ** 100n), "KWD", "-1267650600228229401496703205.376"],
  ])("formats %s %s as %j", (minor, code, expected) => {
    expect(formatAmount(minor, code)).toBe(expected);
  });

  it("rejects unknown currencies and non-bigint amounts", () => {
    expectMoneyError(() => formatAmount(1n, "usd"), "UNKNOWN_CURRENCY");
    expectMoneyError(() => formatAmount(1.5 as unknown as bigint, "USD"), "INVALID_AMOUNT");
  });

  it("property: parseAmount(formatAmount(x)) === x for any 64-bit amount and currency", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -MAX_MINOR, max: MAX_MINOR }), currencyCode, (minor, code) => {
        expect(parseAmount(formatAmount(minor, code), code)).toBe(minor);
      }),
    );
  });
});
