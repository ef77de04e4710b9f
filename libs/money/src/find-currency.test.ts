import { describe, expect, it } from "vitest";
import { findCurrency } from "./find-currency.js";

describe("findCurrency", () => {
  it("finds an active code", () => {
    expect(findCurrency("MYR")).toEqual({ code: "MYR", name: "Malaysian Ringgit", minorUnits: 2 });
  });

  it("does not normalise case or whitespace", () => {
    expect(findCurrency("myr")).toBeUndefined();
    expect(findCurrency("Myr")).toBeUndefined();
    expect(findCurrency(" MYR")).toBeUndefined();
  });

  it("returns undefined for unknown or malformed codes", () => {
    expect(findCurrency("ABC")).toBeUndefined();
    expect(findCurrency("")).toBeUndefined();
    expect(findCurrency("USDT")).toBeUndefined();
    expect(findCurrency(undefined as unknown as string)).toBeUndefined();
  });
});
