import { Decimal as GlobalDecimal } from "decimal.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RoundingMode } from "./convert-amount.js";
import { convertAmount } from "./convert-amount.js";
import { currencies } from "./currencies.js";
import { currency } from "./currency.js";
import { Decimal } from "./decimal.js";
import { invertRate } from "./invert-rate.js";
import { parseRate } from "./parse-rate.js";
import { currencyCode, hugeMinor, rateString, referenceConvert } from "./test/arbitraries.js";
import { expectMoneyError } from "./test/expect-money-error.js";

const roundingMode = fc.constantFrom<RoundingMode>("half-even", "down", "up");

describe("convertAmount", () => {
  it.each([
    // 100.00 USD at 4.7125 = 471.25 MYR
    [10000n, "USD", "MYR", "4.7125", 47125n],
    // 1000 JPY at 0.0305 = 30.50 MYR
    [1000n, "JPY", "MYR", "0.0305", 3050n],
    // 30.50 MYR at 32.786885245902 = 999.999999... JPY -> 1000
    [3050n, "MYR", "JPY", "32.786885245902", 1000n],
    // 1.000 KWD at 3.25 = 3.25 USD
    [1000n, "KWD", "USD", "3.25", 325n],
    // 1.00 USD at 0.3075 = 0.3075 KWD -> 0.308 (half-even of 307.5 is 308)
    [100n, "USD", "KWD", "0.3075", 308n],
    // 1.00 USD at 0.3065 KWD = 306.5 fils -> 306 (tie to even)
    [100n, "USD", "KWD", "0.3065", 306n],
    [-100n, "USD", "KWD", "0.3065", -306n],
    [-100n, "USD", "KWD", "0.3075", -308n],
    [0n, "USD", "JPY", "150.5", 0n],
    [1n, "USD", "JPY", "0.5", 0n],
    // 1.0000 CLF at 38000.5 CLP
    [10000n, "CLF", "CLP", "38000.5", 38000n],
    [10000n, "CLF", "CLP", "38001.5", 38002n],
  ])("converts %s %s -> %s at %s to %s", (minor, from, to, rate, expected) => {
    expect(convertAmount(minor, from, to, rate)).toBe(expected);
  });

  it("rounds down towards zero and up away from zero", () => {
    expect(convertAmount(100n, "USD", "KWD", "0.3061", "down")).toBe(306n);
    expect(convertAmount(100n, "USD", "KWD", "0.3061", "up")).toBe(307n);
    expect(convertAmount(-100n, "USD", "KWD", "0.3061", "down")).toBe(-306n);
    expect(convertAmount(-100n, "USD", "KWD", "0.3061", "up")).toBe(-307n);
    expect(convertAmount(100n, "USD", "KWD", "0.3069", "down")).toBe(306n);
    expect(convertAmount(100n, "USD", "KWD", "0.3069", "half-even")).toBe(307n);
    expect(convertAmount(100n, "USD", "KWD", "0.306", "up")).toBe(306n);
  });

  it("converts amounts far beyond 2^64 exactly", () => {
    const minor = 2n ** 100n + 1n;
    expect(convertAmount(minor, "USD", "USD", "1.000000000001")).toBe(
      referenceConvert(minor, 2, 2, "1.000000000001"),
    );
    expect(convertAmount(minor, "JPY", "KWD", "0.002")).toBe(minor * 2n);
    // 10^80 + 1 times a 13-digit rate needs 93 significant digits: no precision-bound rounding may happen.
    expect(convertAmount(10n ** 80n + 1n, "MYR", "MYR", "1.000000000001")).toBe(10n ** 80n + 10n ** 68n + 1n);
  });

  it("accepts Decimal rates, including global decimal.js instances with many digits", () => {
    expect(convertAmount(10000n, "USD", "MYR", parseRate("4.7125"))).toBe(47125n);
    const precise = new GlobalDecimal("1.00000000000000000000000000000000000005");
    // 1e38 * precise = 1e38 + 5: exact only if the product is not rounded to the global precision of 20.
    expect(convertAmount(10n ** 38n, "USD", "USD", precise)).toBe(10n ** 38n + 5n);
  });

  it("rejects bad rates, currencies and amounts", () => {
    expectMoneyError(() => convertAmount(1n, "USD", "MYR", "0"), "INVALID_RATE", "rate");
    expectMoneyError(() => convertAmount(1n, "USD", "MYR", "-1"), "INVALID_RATE");
    expectMoneyError(() => convertAmount(1n, "USD", "MYR", "1e3"), "INVALID_RATE");
    expectMoneyError(() => convertAmount(1n, "USD", "MYR", "1.0000000000001"), "INVALID_RATE");
    expectMoneyError(() => convertAmount(1n, "USD", "MYR", new Decimal(-1)), "INVALID_RATE");
    expectMoneyError(() => convertAmount(1n, "USD", "MYR", new Decimal(Number.NaN)), "INVALID_RATE");
    expectMoneyError(() => convertAmount(1n, "usd", "MYR", "1"), "UNKNOWN_CURRENCY", "currency");
    expectMoneyError(() => convertAmount(1n, "USD", "XXX", "1"), "UNKNOWN_CURRENCY");
    expectMoneyError(() => convertAmount(1 as unknown as bigint, "USD", "MYR", "1"), "INVALID_AMOUNT");
    expect(() => convertAmount(1n, "USD", "MYR", "1", "half-up" as RoundingMode)).toThrow(RangeError);
  });

  it("property: matches an independent bigint reference (half-even) for any amount, pair and rate", () => {
    fc.assert(
      fc.property(hugeMinor, currencyCode, currencyCode, rateString, (minor, from, to, rate) => {
        const expected = referenceConvert(minor, currency(from).minorUnits, currency(to).minorUnits, rate);
        expect(convertAmount(minor, from, to, rate)).toBe(expected);
      }),
    );
  });

  it("property: rate 1 between currencies with the same minor units is the identity", () => {
    const sameUnitPair = currencyCode.chain((from) => {
      const units = currency(from).minorUnits;
      const peers = [...currencies.values()].filter((c) => c.minorUnits === units).map((c) => c.code);
      return fc.constantFrom(...peers).map((to) => [from, to] as const);
    });
    fc.assert(
      fc.property(hugeMinor, sameUnitPair, roundingMode, (minor, [from, to], rounding) => {
        expect(convertAmount(minor, from, to, "1", rounding)).toBe(minor);
        expect(convertAmount(minor, from, to, "1.000000000000", rounding)).toBe(minor);
      }),
    );
  });

  it("property: exact ties round to the even neighbour", () => {
    // Each scenario maps n to an amount whose exact conversion is n + 0.5 minor units of the target.
    const scenarios = [
      { from: "USD", to: "USD", rate: "0.5", minor: (n: bigint) => 2n * n + 1n, floor: (n: bigint) => n },
      { from: "KWD", to: "JPY", rate: "1", minor: (n: bigint) => 1000n * n + 500n, floor: (n: bigint) => n },
      { from: "JPY", to: "USD", rate: "0.005", minor: (n: bigint) => 2n * n + 1n, floor: (n: bigint) => n },
      {
        from: "CLF",
        to: "MYR",
        rate: "0.05",
        minor: (n: bigint) => 2000n * n + 1000n,
        floor: (n: bigint) => n,
      },
      {
        from: "MYR",
        to: "MYR",
        rate: "2.5",
        minor: (n: bigint) => 2n * n + 1n,
        floor: (n: bigint) => 5n * n + 2n,
      },
    ];
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }),
        fc.constantFrom(...scenarios),
        (n, scenario) => {
          const minor = scenario.minor(n);
          const floor = scenario.floor(n);
          const expected = floor % 2n === 0n ? floor : floor + 1n;
          expect(convertAmount(minor, scenario.from, scenario.to, scenario.rate)).toBe(expected);
          // Towards zero / away from zero pick the neighbours by sign, not by parity.
          const [towardZero, awayFromZero] = floor >= 0n ? [floor, floor + 1n] : [floor + 1n, floor];
          expect(convertAmount(minor, scenario.from, scenario.to, scenario.rate, "down")).toBe(towardZero);
          expect(convertAmount(minor, scenario.from, scenario.to, scenario.rate, "up")).toBe(awayFromZero);
        },
      ),
    );
  });

  it("property: converting back with the inverse rate lands within 1 minor unit", () => {
    const codes = ["USD", "MYR", "EUR", "JPY", "KRW", "KWD", "BHD", "CLF", "UYW"];
    // Only pairs where one minor unit of the target is at most 2 minor units of the source can come back
    // within 1 unit: a much coarser target loses the difference on the way out, whatever the arithmetic.
    const pairs = codes
      .flatMap((from) => codes.map((to) => [from, to] as const))
      .filter(([from, to]) => currency(to).minorUnits - currency(from).minorUnits >= -2);
    const trip = fc.constantFrom(...pairs).chain(([from, to]) => {
      const shift = currency(to).minorUnits - currency(from).minorUnits;
      // rate in [0.01, 100] with 6 decimals, and rate * 10^shift >= 0.5 so the target is not much coarser.
      const minMicros = BigInt(Math.max(10_000, Math.ceil(0.5 * 10 ** (6 - shift))));
      return fc.bigInt({ min: minMicros, max: 100_000_000n }).map((micros) => ({
        from,
        to,
        rate: new Decimal(micros.toString()).div(1_000_000),
      }));
    });
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 9n), max: 10n ** 9n }), trip, (minor, { from, to, rate }) => {
        const there = convertAmount(minor, from, to, rate);
        const back = convertAmount(there, to, from, invertRate(rate));
        const drift = back - minor;
        expect(drift <= 1n && drift >= -1n).toBe(true);
      }),
    );
  });

  it("property: monotone in the amount for every rounding mode", () => {
    fc.assert(
      fc.property(
        hugeMinor,
        hugeMinor,
        currencyCode,
        currencyCode,
        rateString,
        roundingMode,
        (x, y, from, to, rate, rounding) => {
          const [a, b] = x <= y ? [x, y] : [y, x];
          expect(
            convertAmount(a, from, to, rate, rounding) <= convertAmount(b, from, to, rate, rounding),
          ).toBe(true);
        },
      ),
    );
  });
});
