import { describe, expect, test } from "vitest";
import { randomBuffer, randomHex } from "./random-pool.js";

describe("pooled random ids", () => {
  test("ids do not repeat across many refills of the pool, and have the asked length", () => {
    const seen = new Set<string>();
    // 8 bytes each: 512 ids a refill, so this crosses about 40 refills.
    for (let i = 0; i < 20_000; i++) seen.add(randomHex(8));
    expect(seen.size).toBe(20_000);
    expect([...seen].every((id) => /^[0-9a-f]{16}$/.test(id))).toBe(true);
  });

  test("a buffer is the caller's own: refilling the pool does not change it", () => {
    const a = randomBuffer(16);
    const kept = Buffer.from(a);
    for (let i = 0; i < 1000; i++) randomHex(8); // past the next refill
    expect(a.equals(kept)).toBe(true);
    expect(a).toHaveLength(16);
  });

  test("bytes are spread evenly (each hex digit within 10% of its share)", () => {
    const counts = new Map<string, number>();
    const text = Array.from({ length: 4000 }, () => randomHex(16)).join("");
    for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
    const share = text.length / 16;
    expect(counts.size).toBe(16);
    for (const n of counts.values()) expect(Math.abs(n - share) / share).toBeLessThan(0.1);
  });
});
