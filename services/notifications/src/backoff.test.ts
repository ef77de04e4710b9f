import { describe, expect, it } from "vitest";
import { MAX_RETRY_DELAY_MS, retryDelayMs } from "./backoff.js";

describe("retry spacing", () => {
  it("doubles from 30 s up to 12 h, moved by at most a fifth either way", () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, 0.5))).toEqual([30_000, 60_000, 120_000, 240_000]);
    expect(retryDelayMs(1, 0)).toBe(24_000);
    expect(retryDelayMs(1, 0.999_999)).toBeLessThanOrEqual(36_000);
    expect(retryDelayMs(30, 0.5)).toBe(MAX_RETRY_DELAY_MS);
    // Retried for 3 days: about 17 attempts.
    let elapsed = 0;
    let attempts = 0;
    while (elapsed < 72 * 3_600_000) elapsed += retryDelayMs(++attempts, 0.5);
    expect(attempts).toBeGreaterThan(10);
    expect(attempts).toBeLessThan(25);
  });
});
