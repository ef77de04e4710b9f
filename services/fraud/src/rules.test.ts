import { describe, expect, it } from "vitest";
import {
  applyPatch,
  checkRules,
  DEFAULT_RULES,
  diffRules,
  longestWindowMs,
  parseMultiplier,
} from "./rules.js";

describe("rule sets", () => {
  it("the defaults are docs/api.md's and valid", () => {
    expect(checkRules(DEFAULT_RULES, "MYR")).toEqual([]);
    expect(DEFAULT_RULES).toMatchObject({ mode: "enforce", reviewThreshold: 60, autoDeclineThreshold: 90 });
    expect(longestWindowMs(DEFAULT_RULES)).toBe(3_600_000);
  });

  it("a patch changes only what it sets, and the diff names those fields", () => {
    const next = applyPatch(DEFAULT_RULES, {
      mode: "shadow",
      highVelocity: { maxCount: 4, enabled: undefined },
      offHours: { start: "22:00" },
    });
    expect(next.highVelocity).toEqual({ ...DEFAULT_RULES.highVelocity, maxCount: 4 });
    expect(DEFAULT_RULES.highVelocity.maxCount).toBe(5); // not mutated
    expect(diffRules(DEFAULT_RULES, next)).toEqual([
      { field: "mode", oldValue: "enforce", newValue: "shadow" },
      { field: "high_velocity.max_count", oldValue: "5", newValue: "4" },
      { field: "off_hours.start", oldValue: "23:00", newValue: "22:00" },
    ]);
  });

  it("names every bad value with the API's field path", () => {
    const bad = applyPatch(DEFAULT_RULES, {
      reviewThreshold: 95,
      highVelocity: { windowSeconds: 0, points: 101 },
      unusualAmount: { multiplier: "-1" },
      highValue: { threshold: "10.001" },
      offHours: { start: "24:00", end: "05:00" },
    });
    expect(checkRules(bad, "MYR").map((i) => i.field)).toEqual([
      "auto_decline_threshold",
      "high_velocity.points",
      "high_velocity.window_seconds",
      "unusual_amount.multiplier",
      "high_value.threshold",
      "off_hours.start",
    ]);
    expect(checkRules(applyPatch(DEFAULT_RULES, { offHours: { start: "05:00" } }), "MYR")).toEqual([
      { field: "off_hours.end", message: "must differ from off_hours.start" },
    ]);
  });

  it("parses multipliers exactly", () => {
    expect(parseMultiplier("3")).toEqual({ numerator: 3n, scale: 1n });
    expect(parseMultiplier("2.75")).toEqual({ numerator: 275n, scale: 100n });
    for (const bad of ["0", "0.0", "", "1e3", "1.23456", "-2"]) expect(parseMultiplier(bad)).toBeUndefined();
  });
});
