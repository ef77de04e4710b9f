import { describe, expect, it } from "vitest";
import { currency } from "./currency.js";
import { expectMoneyError } from "./test/expect-money-error.js";

describe("currency", () => {
  it("returns the currency info", () => {
    expect(currency("KWD")).toEqual({ code: "KWD", name: "Kuwaiti Dinar", minorUnits: 3 });
  });

  it.each(["usd", "XYZ", "", "US", "USDX", "HRK"])("throws UNKNOWN_CURRENCY for %j", (code) => {
    expectMoneyError(() => currency(code), "UNKNOWN_CURRENCY", "currency");
  });
});
