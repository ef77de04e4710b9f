import { Decimal as GlobalDecimal } from "decimal.js";
import { describe, expect, it } from "vitest";
import { Decimal } from "./decimal.js";

describe("Decimal", () => {
  it("is a configured clone that leaves the global decimal.js untouched", () => {
    expect(Decimal).not.toBe(GlobalDecimal);
    expect(Decimal.precision).toBeGreaterThanOrEqual(60);
    expect(Decimal.rounding).toBe(Decimal.ROUND_HALF_EVEN);
    expect(GlobalDecimal.precision).toBe(20);
    expect(GlobalDecimal.rounding).toBe(GlobalDecimal.ROUND_HALF_UP);
  });

  it("never prints exponent notation", () => {
    expect(new Decimal("1e-20").toString()).toBe("0.00000000000000000001");
    expect(new Decimal("1e30").toString()).toBe("1000000000000000000000000000000");
  });

  it("keeps 60+ significant digits in division", () => {
    const third = new Decimal(1).div(3).toString();
    expect(third.replace("0.", "").length).toBeGreaterThanOrEqual(60);
  });
});
