import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RuleConfig } from "./rules.js";
import { applyPatch, DEFAULT_RULES } from "./rules.js";
import type { Features, ScoringInput } from "./scoring.js";
import { compileRules, evaluate } from "./scoring.js";

const rules = (patch: Parameters<typeof applyPatch>[1] = {}) =>
  compileRules(1, applyPatch(DEFAULT_RULES, patch), "MYR");

const none: Features = {
  highVelocityPrior: 0,
  suspiciousVelocityPrior: 0,
  duplicatesPrior: 0,
  history: { count: 0, totalMinor: 0n },
};

// 11:00 in Kuala Lumpur (UTC+8): no time-of-day rule fires.
const daytime: ScoringInput = {
  baseAmountMinor: 10_00n,
  occurredAt: new Date("2026-03-02T03:00:00Z"),
  timezone: "Asia/Kuala_Lumpur",
};

const fired = (r: ReturnType<typeof evaluate>) => r.flags.map((f) => f.rule).sort();

describe("velocity rules count the scored transaction with the prior ones", () => {
  it("HIGH_VELOCITY fires on the 6th in 10 minutes, not the 5th", () => {
    const at5 = evaluate(rules(), daytime, { ...none, highVelocityPrior: 4 });
    expect(fired(at5)).toEqual([]);
    const at6 = evaluate(rules(), daytime, { ...none, highVelocityPrior: 5 });
    expect(at6.flags).toEqual([
      { rule: "HIGH_VELOCITY", points: 20, values: { count: "6", threshold: "5", window: "10m" } },
    ]);
    expect(at6.score).toBe(20);
  });

  it("SUSPICIOUS_VELOCITY fires on the 11th in an hour, not the 10th", () => {
    expect(fired(evaluate(rules(), daytime, { ...none, suspiciousVelocityPrior: 9 }))).toEqual([]);
    const at11 = evaluate(rules(), daytime, { ...none, suspiciousVelocityPrior: 10 });
    expect(at11.flags[0]).toEqual({
      rule: "SUSPICIOUS_VELOCITY",
      points: 20,
      values: { count: "11", threshold: "10", window: "1h" },
    });
  });
});

describe("UNUSUAL_AMOUNT compares with the average of the lookback", () => {
  // Average 100.00 over 4 transactions.
  const history = { count: 4, totalMinor: 400_00n };

  it("fires above 3x the average only", () => {
    const at = (minor: bigint) =>
      evaluate(rules(), { ...daytime, baseAmountMinor: minor }, { ...none, history });
    expect(fired(at(300_00n))).toEqual([]);
    expect(at(300_01n).flags).toEqual([
      {
        rule: "UNUSUAL_AMOUNT",
        points: 20,
        values: {
          amount: "300.01",
          average: "100.00",
          multiplier: "3",
          transactions: "4",
          days: "30",
          currency: "MYR",
        },
      },
    ]);
  });

  it("does not fire without history, or with less than min_transactions", () => {
    expect(fired(evaluate(rules(), { ...daytime, baseAmountMinor: 1_000_000_00n }, none))).toEqual([
      "HIGH_VALUE",
    ]);
    const strict = rules({ unusualAmount: { minTransactions: 5 } });
    expect(fired(evaluate(strict, { ...daytime, baseAmountMinor: 5_000_00n }, { ...none, history }))).toEqual(
      [],
    );
  });

  it("takes a fractional multiplier exactly", () => {
    const r = rules({ unusualAmount: { multiplier: "2.5" } });
    // Average 33.333...: 2.5x = 83.333..., so 83.33 does not fire and 83.34 does.
    const third = { count: 3, totalMinor: 100_00n };
    expect(fired(evaluate(r, { ...daytime, baseAmountMinor: 83_33n }, { ...none, history: third }))).toEqual(
      [],
    );
    expect(fired(evaluate(r, { ...daytime, baseAmountMinor: 83_34n }, { ...none, history: third }))).toEqual([
      "UNUSUAL_AMOUNT",
    ]);
  });
});

describe("HIGH_VALUE", () => {
  it("fires above 10,000.00 in the base currency, not at it", () => {
    expect(fired(evaluate(rules(), { ...daytime, baseAmountMinor: 10_000_00n }, none))).toEqual([]);
    expect(evaluate(rules(), { ...daytime, baseAmountMinor: 10_000_01n }, none).flags).toEqual([
      {
        rule: "HIGH_VALUE",
        points: 20,
        values: { amount: "10000.01", threshold: "10000.00", currency: "MYR" },
      },
    ]);
  });
});

describe("OFF_HOURS is in the user's time zone", () => {
  const at = (utc: string, timezone: string) =>
    fired(evaluate(rules(), { ...daytime, occurredAt: new Date(utc), timezone }, none));

  it("23:30 in Kuala Lumpur is off-hours although it is 15:30 UTC", () => {
    const r = evaluate(rules(), { ...daytime, occurredAt: new Date("2026-03-02T15:30:00Z") }, none);
    expect(r.flags).toEqual([
      {
        rule: "OFF_HOURS",
        points: 20,
        values: { local_time: "23:30", timezone: "Asia/Kuala_Lumpur", start: "23:00", end: "05:00" },
      },
    ]);
    expect(at("2026-03-02T15:30:00Z", "UTC")).toEqual([]);
  });

  it("starts at 23:00 and ends before 05:00 local", () => {
    expect(at("2026-03-02T14:59:00Z", "Asia/Kuala_Lumpur")).toEqual([]); // 22:59
    expect(at("2026-03-02T15:00:00Z", "Asia/Kuala_Lumpur")).toEqual(["OFF_HOURS"]); // 23:00
    expect(at("2026-03-02T20:59:00Z", "Asia/Kuala_Lumpur")).toEqual(["OFF_HOURS"]); // 04:59
    expect(at("2026-03-02T21:00:00Z", "Asia/Kuala_Lumpur")).toEqual([]); // 05:00
  });

  it("follows other zones and daylight saving time", () => {
    // New York: 23:30 EST (UTC-5) in January, 23:30 EDT (UTC-4) in July.
    expect(at("2026-01-16T04:30:00Z", "America/New_York")).toEqual(["OFF_HOURS"]);
    expect(at("2026-07-16T03:30:00Z", "America/New_York")).toEqual(["OFF_HOURS"]);
    expect(at("2026-07-16T02:30:00Z", "America/New_York")).toEqual([]); // 22:30 EDT
    // Kathmandu is UTC+5:45: 04:59 local fires, 05:00 does not.
    expect(at("2026-03-01T23:14:00Z", "Asia/Kathmandu")).toEqual(["OFF_HOURS"]);
    expect(at("2026-03-01T23:15:00Z", "Asia/Kathmandu")).toEqual([]);
  });

  it("takes a window that does not wrap past midnight", () => {
    const r = rules({ offHours: { start: "01:00", end: "04:00" } });
    const local = (utc: string) =>
      fired(evaluate(r, { ...daytime, occurredAt: new Date(utc), timezone: "UTC" }, none));
    expect(local("2026-03-02T00:59:00Z")).toEqual([]);
    expect(local("2026-03-02T01:00:00Z")).toEqual(["OFF_HOURS"]);
    expect(local("2026-03-02T04:00:00Z")).toEqual([]);
    expect(local("2026-03-02T23:30:00Z")).toEqual([]);
  });
});

describe("POSSIBLE_DUPLICATE", () => {
  it("is a flag without points by default", () => {
    const r = evaluate(rules(), daytime, { ...none, duplicatesPrior: 1 });
    expect(r.flags).toEqual([
      { rule: "POSSIBLE_DUPLICATE", points: 0, values: { matches: "1", window: "5m" } },
    ]);
    expect(r.score).toBe(0);
    expect(r.ruleDecision).toBe("approve");
  });
});

describe("scores and decisions", () => {
  const everything: Features = {
    highVelocityPrior: 20,
    suspiciousVelocityPrior: 20,
    duplicatesPrior: 1,
    history: { count: 1, totalMinor: 1_00n },
  };
  const night: ScoringInput = {
    baseAmountMinor: 20_000_00n,
    occurredAt: new Date("2026-03-02T16:00:00Z"),
    timezone: "Asia/Kuala_Lumpur",
  };

  it("adds the points of every rule that fired and caps at 100", () => {
    const r = evaluate(rules(), night, everything);
    expect(r.flags).toHaveLength(6);
    expect(r.score).toBe(100);
    const heavier = evaluate(
      rules({ highValue: { points: 50 }, offHours: { points: 40 } }),
      night,
      everything,
    );
    expect(heavier.score).toBe(100);
    const lighter = evaluate(rules({ highValue: { points: 5 }, offHours: { points: 1 } }), night, everything);
    expect(lighter.score).toBe(20 + 20 + 20 + 5 + 1);
  });

  it("reviews at 60, declines at 90 only with auto-decline enabled", () => {
    const three = { ...none, highVelocityPrior: 5, suspiciousVelocityPrior: 10 };
    const r60 = evaluate(rules(), { ...daytime, baseAmountMinor: 10_000_01n }, three);
    expect([r60.score, r60.ruleDecision]).toEqual([60, "review"]);
    const r40 = evaluate(rules(), daytime, three);
    expect([r40.score, r40.ruleDecision]).toEqual([40, "approve"]);
    expect(evaluate(rules(), night, everything).ruleDecision).toBe("review");
    expect(evaluate(rules({ autoDeclineEnabled: true }), night, everything).ruleDecision).toBe("decline");
    const at90 = rules({ autoDeclineEnabled: true, highValue: { points: 30 } });
    const r90 = evaluate(
      at90,
      { ...daytime, baseAmountMinor: 10_000_01n },
      { ...three, history: { count: 1, totalMinor: 1n } },
    );
    expect([r90.score, r90.ruleDecision]).toEqual([90, "decline"]);
  });

  it("disabled rules never fire", () => {
    const off: RuleConfig = applyPatch(DEFAULT_RULES, {
      highVelocity: { enabled: false },
      suspiciousVelocity: { enabled: false },
      unusualAmount: { enabled: false },
      highValue: { enabled: false },
      offHours: { enabled: false },
      possibleDuplicate: { enabled: false },
    });
    expect(evaluate(compileRules(2, off, "MYR"), night, everything)).toEqual({
      score: 0,
      flags: [],
      ruleDecision: "approve",
    });
  });

  it("score = min(100, sum of fired points) and the decision follows the thresholds, for any points", () => {
    const points = fc.integer({ min: 0, max: 100 });
    fc.assert(
      fc.property(
        fc.record({ hv: points, sv: points, ua: points, hi: points, oh: points, pd: points }),
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 0, max: 30 }),
        fc.boolean(),
        (p, review, extra, autoDecline) => {
          const r = rules({
            reviewThreshold: review,
            autoDeclineThreshold: Math.min(100, review + extra),
            autoDeclineEnabled: autoDecline,
            highVelocity: { points: p.hv },
            suspiciousVelocity: { points: p.sv },
            unusualAmount: { points: p.ua },
            highValue: { points: p.hi },
            offHours: { points: p.oh },
            possibleDuplicate: { points: p.pd },
          });
          const out = evaluate(r, night, everything);
          const sum = p.hv + p.sv + p.ua + p.hi + p.oh + p.pd;
          expect(out.score).toBe(Math.min(100, sum));
          expect(out.flags.reduce((s, f) => s + f.points, 0)).toBe(sum);
          const expected =
            autoDecline && out.score >= r.config.autoDeclineThreshold
              ? "decline"
              : out.score >= review
                ? "review"
                : "approve";
          expect(out.ruleDecision).toBe(expected);
        },
      ),
      { numRuns: 200 },
    );
  });
});
