import { describe, expect, it } from "vitest";
import { formatRate } from "./format-rate.js";
import { parseRateList } from "./parse-rate-list.js";

describe("parseRateList", () => {
  it("reads BASE/QUOTE=RATE items separated by commas, spaces and empty items ignored", () => {
    const rates = parseRateList(" SGD/MYR=3.50, ,USD/MYR=4.70 ");
    expect(rates.map((r) => `${r.base}/${r.quote}=${formatRate(r.rate)}`)).toEqual([
      "SGD/MYR=3.5",
      "USD/MYR=4.7",
    ]);
    expect(parseRateList("")).toEqual([]);
  });

  it("refuses a malformed item, a pair of one currency and an unknown code, naming the item", () => {
    for (const item of ["SGD=3", "SGD-MYR=3.5", "MYR/MYR=1", "ABC/MYR=2", "sgd/MYR=3"]) {
      expect(() => parseRateList(`USD/MYR=4.70,${item}`)).toThrow(
        `expected BASE/QUOTE=RATE items such as SGD/MYR=3.50, got "${item}"`,
      );
    }
  });

  it("refuses a rate that is zero, malformed or has more than 12 decimals", () => {
    for (const rate of ["0", "1.2.3", "0.1234567890123"]) {
      expect(() => parseRateList(`SGD/MYR=${rate}`)).toThrow(
        `"${rate}" is not a positive rate with at most 12 decimals`,
      );
    }
  });
});
