import { describe, expect, it } from "vitest";
import { formatResults, runSuite, SCENARIOS, SHORT } from "./suite.js";

describe("fault suite (short: a wallet crash and a database outage)", () => {
  it("loses, doubles and misanswers nothing, keeps every balance, and settles", async () => {
    const { results, logDir } = await runSuite({
      scenarios: SCENARIOS.filter((s) => SHORT.includes(s.name)),
      users: 10,
      settleMs: 60_000,
    });
    console.log(`${formatResults(results)}\n(service logs: ${logDir})`);
    expect(results.map((r) => r.name)).toEqual(SHORT);
    for (const r of results) {
      expect(r.verdict.acknowledged, r.name).toBeGreaterThan(0);
      expect(r.verdict.lost, r.name).toEqual([]);
      expect(r.verdict.duplicated, r.name).toEqual([]);
      expect(r.verdict.wrong, r.name).toEqual([]);
      expect(r.verdict.unbalanced, r.name).toEqual([]);
      expect(r.verdict.ledgerOk, r.name).toBe(true);
      expect(r.recoveredMs, `${r.name} never settled: ${JSON.stringify(r.backlog)}`).toBeDefined();
    }
  }, 240_000);
});
