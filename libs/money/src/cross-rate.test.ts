import { Decimal as GlobalDecimal } from "decimal.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { crossRate } from "./cross-rate.js";
import { Decimal } from "./decimal.js";
import { parseRate } from "./parse-rate.js";
import { rateString } from "./test/arbitraries.js";
import { expectMoneyError } from "./test/expect-money-error.js";

describe("crossRate", () => {
  it.each([
    ["4.7125", "0.85", "4.005625"],
    ["2", "3", "6"],
    ["0.000001", "0.000001", "0.000000000001"],
    // 0.0000005 * 0.000005 = 2.5e-12: tie, to even 2e-12 (half-up would give 3e-12).
    ["0.0000005", "0.000005", "0.000000000002"],
    // 0.0000005 * 0.000007 = 3.5e-12: tie, to even 4e-12.
    ["0.0000005", "0.000007", "0.000000000004"],
    ["1.234567890123", "9.876543210987", "12.193263113697"],
    ["123456789012.5", "1000000", "123456789012500000"],
  ])("%s x %s = %s", (a, b, expected) => {
    const cross = crossRate(parseRate(a), parseRate(b));
    expect(cross).toBeInstanceOf(Decimal);
    expect(cross.toFixed()).toBe(expected);
  });

  it("computes exactly even for inputs with more digits than the global decimal.js precision", () => {
    const a = new GlobalDecimal("12345678901234567890.123456789012");
    expect(crossRate(a, new GlobalDecimal("1")).toFixed()).toBe("12345678901234567890.123456789012");
  });

  it("rejects non-positive or non-finite inputs and products that round to zero", () => {
    expectMoneyError(() => crossRate(new Decimal(0), new Decimal(1)), "INVALID_RATE", "rate");
    expectMoneyError(() => crossRate(new Decimal(1), new Decimal(-1)), "INVALID_RATE");
    expectMoneyError(() => crossRate(new Decimal(Number.NaN), new Decimal(1)), "INVALID_RATE");
    expectMoneyError(() => crossRate(parseRate("0.000001"), parseRate("0.0000001")), "INVALID_RATE");
  });

  it("property: the result is a*b correctly rounded to 12 decimals and commutative", () => {
    fc.assert(
      fc.property(rateString, rateString, (a, b) => {
        const ra = parseRate(a);
        const rb = parseRate(b);
        const exact = new Decimal(a).times(b);
        fc.pre(exact.gte("1e-12"));
        const cross = crossRate(ra, rb);
        expect(cross.decimalPlaces()).toBeLessThanOrEqual(12);
        expect(cross.minus(exact).abs().lte("0.5e-12")).toBe(true);
        expect(crossRate(rb, ra).equals(cross)).toBe(true);
      }),
    );
  });
});
