import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { divideHalfEven } from "./divide-half-even.js";

describe("divideHalfEven", () => {
  it("divides rounding half to even", () => {
    expect([
      divideHalfEven(5n, 2n),
      divideHalfEven(7n, 2n),
      divideHalfEven(9n, 4n),
      divideHalfEven(11n, 4n),
    ]).toEqual([2n, 4n, 2n, 3n]);
    expect([
      divideHalfEven(10n, 5n),
      divideHalfEven(0n, 7n),
      divideHalfEven(2n, 3n),
      divideHalfEven(1n, 3n),
    ]).toEqual([2n, 0n, 1n, 0n]);
  });

  it("rounds negative quotients the same way, mirrored", () => {
    expect([
      divideHalfEven(-5n, 2n),
      divideHalfEven(-7n, 2n),
      divideHalfEven(-2n, 3n),
      divideHalfEven(-1n, 3n),
    ]).toEqual([-2n, -4n, -1n, 0n]);
  });

  it("is the nearest integer, and on a tie the even one", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }),
        fc.bigInt({ min: 1n, max: 10n ** 10n }),
        (a, b) => {
          const q = divideHalfEven(a, b);
          // |a - q*b| <= b/2
          const diff = a - q * b;
          const twice = 2n * (diff < 0n ? -diff : diff);
          expect(twice <= b).toBe(true);
          if (twice === b) expect(q % 2n).toBe(0n);
          expect(divideHalfEven(-a, b)).toBe(-q);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("refuses a divisor that is not positive", () => {
    expect(() => divideHalfEven(1n, 0n)).toThrow(RangeError);
    expect(() => divideHalfEven(1n, -2n)).toThrow(RangeError);
  });
});
