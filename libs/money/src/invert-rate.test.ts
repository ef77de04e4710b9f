import { Decimal as GlobalDecimal } from "decimal.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Decimal } from "./decimal.js";
import { invertRate } from "./invert-rate.js";
import { parseRate } from "./parse-rate.js";
import { rateString } from "./test/arbitraries.js";
import { expectMoneyError } from "./test/expect-money-error.js";

describe("invertRate", () => {
  it.each([
    ["4", "0.25"],
    ["3", "0.333333333333"],
    ["1.5", "0.666666666667"],
    ["4.7125", "0.212201591512"],
    ["0.000000000001", "1000000000000"],
    ["1", "1"],
    // Ties at the 12th decimal: 1/4e11 = 2.5e-12 and 1/8e10 = 12.5e-12 go to the even neighbour (half-up
    // would give 3e-12 and 13e-12). For terminating rates such ties always have an even floor, so they round down.
    ["400000000000", "0.000000000002"],
    ["80000000000", "0.000000000012"],
  ])("inverts %s to %s", (value, expected) => {
    const inverse = invertRate(parseRate(value));
    expect(inverse).toBeInstanceOf(Decimal);
    expect(inverse.toFixed()).toBe(expected);
  });

  it("accepts a global decimal.js instance", () => {
    expect(invertRate(new GlobalDecimal(8)).toFixed()).toBe("0.125");
  });

  it("rejects non-positive and non-finite rates, and inverses that round to zero", () => {
    expectMoneyError(() => invertRate(new Decimal(0)), "INVALID_RATE", "rate");
    expectMoneyError(() => invertRate(new Decimal(-2)), "INVALID_RATE");
    expectMoneyError(() => invertRate(new Decimal(Number.NaN)), "INVALID_RATE");
    expectMoneyError(() => invertRate(new Decimal(Number.POSITIVE_INFINITY)), "INVALID_RATE");
    expectMoneyError(() => invertRate(new Decimal("2000000000001")), "INVALID_RATE");
    // 1/2e12 = 0.5e-12 is a tie between 0 and 1e-12; half-even picks 0, which is no rate.
    expectMoneyError(() => invertRate(new Decimal("2000000000000")), "INVALID_RATE");
  });

  it("property: the result is 1/rate correctly rounded to 12 decimals", () => {
    fc.assert(
      fc.property(rateString, (s) => {
        const rate = parseRate(s);
        const inverse = invertRate(rate);
        fc.pre(!inverse.isZero());
        expect(inverse.decimalPlaces()).toBeLessThanOrEqual(12);
        // Within half a unit of the 12th decimal of the true quotient: |inverse * rate - 1| <= 0.5e-12 * rate.
        const error = inverse.times(rate).minus(1).abs();
        expect(error.lte(rate.times("0.5e-12"))).toBe(true);
      }),
    );
  });
});
