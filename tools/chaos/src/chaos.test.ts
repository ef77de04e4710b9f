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

describe("fault suite with two wallet replicas (a kill takes one down)", () => {
  it("both serve requests through the gateway, and killing one loses nothing acknowledged", async () => {
    const { results, logDir } = await runSuite({
      scenarios: SCENARIOS.filter((s) => s.name === "kill wallet"),
      users: 10,
      settleMs: 60_000,
      replicas: { wallet: 2 },
    });
    console.log(`${formatResults(results)}\n(service logs: ${logDir})`);
    const [r] = results;
    expect(r?.served.map((s) => s.replica)).toEqual(["wallet@1", "wallet@2"]);
    for (const s of r?.served ?? []) expect(s.rpcs, s.replica).toBeGreaterThan(0);
    expect(r?.verdict.acknowledged).toBeGreaterThan(0);
    expect(r?.verdict.lost).toEqual([]);
    expect(r?.verdict.duplicated).toEqual([]);
    expect(r?.verdict.wrong).toEqual([]);
    expect(r?.verdict.unbalanced).toEqual([]);
    expect(r?.recoveredMs, `never settled: ${JSON.stringify(r?.backlog)}`).toBeDefined();
  }, 240_000);
});
