import { TestClock } from "@fintech/testing";
import { describe, expect, it } from "vitest";
import type { Clock } from "./clock.js";
import { systemClock } from "./clock.js";

describe("systemClock", () => {
  it("shows the wall clock's time", () => {
    const before = Date.now();
    const now = systemClock.now().getTime();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });
});

describe("TestClock as a Clock", () => {
  it("stands in for the system clock and shows only the time the test sets", () => {
    const test = new TestClock("2026-03-01T08:00:00Z");
    const clock: Clock = test;
    test.advance(90_000);
    expect(clock.now().toISOString()).toBe("2026-03-01T08:01:30.000Z");
    const shown = clock.now();
    shown.setUTCFullYear(2000);
    expect(clock.now().toISOString()).toBe("2026-03-01T08:01:30.000Z");
  });
});
