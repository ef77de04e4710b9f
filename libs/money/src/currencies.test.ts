import { describe, expect, it } from "vitest";
import { currencies } from "./currencies.js";

describe("currencies", () => {
  it("has the minor units of ISO 4217 for the non-2-decimal currencies", () => {
    const units = (code: string) => currencies.get(code)?.minorUnits;
    for (const code of ["JPY", "KRW", "CLP", "VND", "ISK", "XOF", "XAF", "XPF", "UGX", "PYG", "BIF", "UYI"]) {
      expect(units(code), code).toBe(0);
    }
    for (const code of ["KWD", "BHD", "OMR", "JOD", "TND", "LYD", "IQD"]) {
      expect(units(code), code).toBe(3);
    }
    expect(units("CLF")).toBe(4);
    expect(units("UYW")).toBe(4);
    for (const code of ["MYR", "USD", "EUR", "GBP", "SGD", "IDR", "XCG", "ZWG", "SLE"]) {
      expect(units(code), code).toBe(2);
    }
  });

  it("is keyed by its own upper-case three-letter codes", () => {
    expect(currencies.size).toBeGreaterThan(150);
    for (const [key, info] of currencies) {
      expect(info.code).toBe(key);
      expect(key).toMatch(/^[A-Z]{3}$/);
      expect(info.name.length).toBeGreaterThan(0);
      expect([0, 2, 3, 4]).toContain(info.minorUnits);
    }
  });

  it("leaves out withdrawn codes and units without minor units", () => {
    for (const code of ["HRK", "ANG", "ZWL", "SLL", "CUC", "XAU", "XDR", "XTS", "XXX"]) {
      expect(currencies.has(code), code).toBe(false);
    }
  });

  it("hands out frozen entries so one caller cannot change another's minor units", () => {
    const usd = currencies.get("USD");
    expect(Object.isFrozen(usd)).toBe(true);
  });
});
