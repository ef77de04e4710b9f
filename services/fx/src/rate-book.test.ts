import { formatRate, parseRate } from "@fintech/money";
import { describe, expect, it } from "vitest";
import type { StoredRate } from "./rate-book.js";
import { RateBook } from "./rate-book.js";

const at = (iso: string) => new Date(iso);
const stored = (
  base: string,
  quote: string,
  rate: string,
  updatedAt = at("2026-01-01T00:00:00Z"),
): StoredRate => ({
  base,
  quote,
  rate: parseRate(rate),
  source: "seed",
  updatedAt,
});

const book = new RateBook("MYR", [
  stored("SGD", "MYR", "3.50", at("2026-01-01T00:00:00Z")),
  stored("USD", "MYR", "4.70", at("2026-01-02T00:00:00Z")),
]);

describe("RateBook", () => {
  it("answers the stored direction as set", () => {
    const r = book.resolve("SGD", "MYR");
    expect(r && formatRate(r.rate)).toBe("3.5");
    expect(r?.derivation).toBe("direct");
  });

  it("inverts the stored direction, rounded to 12 decimals", () => {
    const r = book.resolve("MYR", "SGD");
    expect(r && formatRate(r.rate)).toBe("0.285714285714");
    expect(r?.derivation).toBe("inverse");
  });

  it("crosses two currencies through the pivot and dates it by the newer leg", () => {
    const r = book.resolve("SGD", "USD");
    expect(r?.derivation).toBe("cross");
    // 3.50 * (1 / 4.70) = 0.744680851063...
    expect(r && formatRate(r.rate)).toBe("0.744680851064");
    expect(r?.updatedAt).toEqual(at("2026-01-02T00:00:00Z"));
  });

  it("crosses through another currency when the pivot has no leg", () => {
    const b = new RateBook("MYR", [
      stored("SGD", "MYR", "3.50"),
      stored("EUR", "USD", "1.10"),
      stored("USD", "SGD", "1.35"),
    ]);
    const r = b.resolve("EUR", "SGD");
    expect(r && formatRate(r.rate)).toBe("1.485");
  });

  it("lists the pivot and every currency with a rate, and nothing else", () => {
    expect([...book.currencies].sort()).toEqual(["MYR", "SGD", "USD"]);
    expect(book.has("EUR")).toBe(false);
    expect(book.resolve("EUR", "MYR")).toBeUndefined();
  });
});
