import { formatRate } from "@fintech/money";
import { describe, expect, it } from "vitest";
import { parseFxConfig } from "./config.js";

describe("fx configuration", () => {
  it("has working defaults: MYR pivot and the two seed rates", () => {
    const config = parseFxConfig({});
    expect(config.FX_PIVOT_CURRENCY).toBe("MYR");
    expect(config.FX_SEED_RATES.map((r) => `${r.base}/${r.quote}=${formatRate(r.rate)}`)).toEqual([
      "SGD/MYR=3.5",
      "USD/MYR=4.7",
    ]);
  });

  it("names every bad variable in one message", () => {
    expect(() =>
      parseFxConfig({
        PORT: "http",
        FX_SEED_RATES: "SGD/MYR=abc",
        FX_PIVOT_CURRENCY: "XXX",
        FX_SPREAD_BPS: "-1",
      }),
    ).toThrow(
      expect.objectContaining({
        name: "ConfigError",
        message: expect.stringMatching(
          /PORT:.*\n.*FX_PIVOT_CURRENCY:.*\n.*FX_SEED_RATES:.*\n.*FX_SPREAD_BPS:/s,
        ),
      }),
    );
  });

  it("refuses a seed pair of one currency or an unknown code", () => {
    for (const seed of ["MYR/MYR=1", "ABC/MYR=2", "SGD-MYR=3.5"]) {
      expect(() => parseFxConfig({ FX_SEED_RATES: seed })).toThrow(/FX_SEED_RATES/);
    }
  });
});
