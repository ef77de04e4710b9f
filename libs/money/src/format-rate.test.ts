import { Decimal as GlobalDecimal } from "decimal.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Decimal } from "./decimal.js";
import { formatRate } from "./format-rate.js";
import { parseRate } from "./parse-rate.js";
import { rateString } from "./test/arbitraries.js";
import { expectMoneyError } from "./test/expect-money-error.js";

describe("formatRate", () => {
  it.each([
    ["4.712500", "4.7125"],
    ["1", "1"],
    ["100.000", "100"],
    ["1e-7", "0.0000001"],
    ["1e25", "10000000000000000000000000"],
    ["0.0000000000005", "0"],
    ["0.0000000000015", "0.000000000002"],
    ["0.0000000000025", "0.000000000002"],
    ["1.0000000000004999", "1"],
    ["2.9999999999995", "3"],
    ["-0", "0"],
  ])("formats %s as %j", (value, expected) => {
    expect(formatRate(new Decimal(value))).toBe(expected);
  });

  it("formats a global decimal.js instance without exponent notation", () => {
    expect(formatRate(new GlobalDecimal("1e-9"))).toBe("0.000000001");
    expect(formatRate(new GlobalDecimal("1e21"))).toBe("1000000000000000000000");
  });

  it("rejects non-finite values", () => {
    expectMoneyError(() => formatRate(new Decimal(Number.NaN)), "INVALID_RATE", "rate");
    expectMoneyError(() => formatRate(new Decimal(Number.POSITIVE_INFINITY)), "INVALID_RATE");
    expectMoneyError(() => formatRate("1.5" as unknown as Decimal), "INVALID_RATE");
  });

  it("property: formatRate(parseRate(s)) has the same value as s, without trailing zeros", () => {
    fc.assert(
      fc.property(rateString, (s) => {
        const formatted = formatRate(parseRate(s));
        expect(formatted).not.toMatch(/\.\d*0$|e/i);
        expect(new Decimal(formatted).equals(new Decimal(s))).toBe(true);
      }),
    );
  });
});
