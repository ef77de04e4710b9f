import { describe, expect, it } from "vitest";
import { Decimal } from "./decimal.js";
import { parseRate } from "./parse-rate.js";
import { expectMoneyError } from "./test/expect-money-error.js";

describe("parseRate", () => {
  it.each([
    ["4.7125", "4.7125"],
    ["1", "1"],
    ["0.000000000001", "0.000000000001"],
    ["007.50", "7.5"],
    ["123456789012345678901234567890.123456789012", "123456789012345678901234567890.123456789012"],
  ])("parses %j", (value, expected) => {
    const rate = parseRate(value);
    expect(rate).toBeInstanceOf(Decimal);
    expect(rate.toFixed()).toBe(expected);
  });

  it("returns instances of the library's Decimal clone", () => {
    expect(parseRate("2").constructor).toBe(Decimal);
  });

  it.each(["", "-1", "+1", ".5", "5.", "1e3", " 1", "1 ", "1,5", "abc", "Infinity", "NaN"])(
    "rejects %j as INVALID_RATE",
    (value) => {
      expectMoneyError(() => parseRate(value), "INVALID_RATE", "rate");
    },
  );

  it("rejects zero", () => {
    expectMoneyError(() => parseRate("0"), "INVALID_RATE");
    expectMoneyError(() => parseRate("0.000000000000"), "INVALID_RATE");
  });

  it("rejects more than 12 decimals, trailing zeros included", () => {
    expectMoneyError(() => parseRate("0.0000000000001"), "INVALID_RATE");
    expectMoneyError(() => parseRate("1.0000000000000"), "INVALID_RATE");
  });

  it("rejects non-string input at runtime", () => {
    expectMoneyError(() => parseRate(1.5 as unknown as string), "INVALID_RATE");
  });
});
