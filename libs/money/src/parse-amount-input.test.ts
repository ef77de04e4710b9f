import { describe, expect, it } from "vitest";
import { parseAmountInput } from "./parse-amount-input.js";
import { expectMoneyError } from "./test/expect-money-error.js";

describe("parseAmountInput", () => {
  it("parses strings exactly like parseAmount", () => {
    expect(parseAmountInput("45.50", "MYR")).toBe(4550n);
    expect(parseAmountInput("9223372036854775807", "JPY")).toBe(9223372036854775807n);
    expectMoneyError(() => parseAmountInput("45.500", "MYR"), "TOO_MANY_DECIMALS");
    expectMoneyError(() => parseAmountInput("1e3", "MYR"), "INVALID_AMOUNT");
  });

  it.each([
    [45.5, "MYR", 4550n],
    [45.05, "MYR", 4505n],
    [0.1, "USD", 10n],
    [-0.05, "MYR", -5n],
    [-0, "MYR", 0n],
    [1000, "JPY", 1000n],
    [1.234, "KWD", 1234n],
    [999999999999999, "JPY", 999999999999999n],
    [9999999999999.99, "USD", 999999999999999n],
  ])("parses the number %d %s via its shortest decimal string", (value, code, expected) => {
    expect(parseAmountInput(value, code)).toBe(expected);
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])(
    "rejects %d as INVALID_AMOUNT",
    (value) => {
      expectMoneyError(() => parseAmountInput(value, "USD"), "INVALID_AMOUNT", "amount");
    },
  );

  it("rejects numbers that print in exponent form", () => {
    expectMoneyError(() => parseAmountInput(1e21, "JPY"), "INVALID_AMOUNT");
    expectMoneyError(() => parseAmountInput(1e-7, "USD"), "INVALID_AMOUNT");
  });

  it("rejects float artefacts and sub-minor precision as TOO_MANY_DECIMALS", () => {
    expectMoneyError(() => parseAmountInput(0.1 + 0.2, "USD"), "TOO_MANY_DECIMALS");
    expectMoneyError(() => parseAmountInput(45.505, "MYR"), "TOO_MANY_DECIMALS");
    expectMoneyError(() => parseAmountInput(1.5, "JPY"), "TOO_MANY_DECIMALS");
  });

  it("rejects numbers past the 15 significant digits a double carries exactly", () => {
    // 9007199254740993 cannot be a double: JSON.parse turns it into ...992, a different amount.
    expectMoneyError(
      () => parseAmountInput(JSON.parse("9007199254740993") as number, "JPY"),
      "INVALID_AMOUNT",
    );
    expectMoneyError(() => parseAmountInput(1e15, "JPY"), "INVALID_AMOUNT");
    expectMoneyError(() => parseAmountInput(1e20, "JPY"), "INVALID_AMOUNT");
    expectMoneyError(() => parseAmountInput(12345678901234.56, "USD"), "INVALID_AMOUNT");
  });

  it("rejects other types and unknown currencies", () => {
    expectMoneyError(() => parseAmountInput(10n as unknown as number, "USD"), "INVALID_AMOUNT");
    expectMoneyError(() => parseAmountInput(null as unknown as number, "USD"), "INVALID_AMOUNT");
    expectMoneyError(() => parseAmountInput(10, "usd"), "UNKNOWN_CURRENCY");
  });
});
