import { randomUUID } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { AuditEntrySchema } from "@fintech/proto/fintech/audit/v1/audit_pb.js";
import { Decision, RuleMode } from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import { publishedEvents } from "@fintech/testing";
import { describe, expect } from "vitest";
import { expectRefusal, fraudTest, minutesBefore, purchase, scoreRequest } from "./test/harness.js";

const test = fraudTest();
const T = new Date("2026-03-02T03:00:00Z");

describe("rules", () => {
  test("version 1 is docs/api.md's defaults", async ({ fraud }) => {
    const { rules } = await fraud.admin.getRules({});
    expect(rules).toMatchObject({
      version: 1,
      mode: RuleMode.ENFORCE,
      reviewThreshold: 60,
      autoDeclineThreshold: 90,
      autoDeclineEnabled: false,
      highVelocity: { enabled: true, points: 20, maxCount: 5, windowSeconds: 600 },
      suspiciousVelocity: { enabled: true, points: 20, maxCount: 10, windowSeconds: 3600 },
      unusualAmount: { enabled: true, points: 20, multiplier: "3", lookbackDays: 30, minTransactions: 1 },
      highValue: { enabled: true, points: 20, threshold: "10000.00" },
      offHours: { enabled: true, points: 20, start: "23:00", end: "05:00" },
      possibleDuplicate: { enabled: true, points: 0, windowSeconds: 300 },
      updatedBy: "system",
    });
  });

  test("a change is a new version saying who changed what and when; scores record the version they used", async ({
    fraud,
  }) => {
    const user = randomUUID();
    await fraud.feed(...[4, 3, 2, 1].map((m, i) => purchase(user, minutesBefore(T, m), `${30 + i}.00`)));
    const before = await fraud.score(scoreRequest(user, T));
    expect(before.flags).toEqual([]);

    fraud.clock.set("2026-03-02T03:00:30Z");
    const { rules: current } = await fraud.admin.getRules({});
    const { rules } = await fraud.as("admin:boss").updateRules({
      highVelocity: { maxCount: 4 },
      highValue: { threshold: "5000" },
      note: "tighter after the incident",
      expectedVersion: current?.version ?? 0,
    });
    expect(rules).toMatchObject({
      version: (current?.version ?? 0) + 1,
      highVelocity: { maxCount: 4, windowSeconds: 600, points: 20, enabled: true },
      highValue: { threshold: "5000.00" },
      updatedBy: "admin:boss",
    });
    const after = await fraud.score(scoreRequest(user, T));
    expect(after.flags.map((f) => f.rule)).toEqual(["HIGH_VELOCITY"]);
    expect(after.ruleVersion).toBe(rules?.version);
    expect(before.ruleVersion).toBe(current?.version);

    const { data } = await fraud.admin.listRuleVersions({ limit: 1 });
    expect(data[0]).toMatchObject({
      version: rules?.version,
      changedBy: "admin:boss",
      note: "tighter after the incident",
      changes: [
        { field: "high_velocity.max_count", oldValue: "5", newValue: "4" },
        { field: "high_value.threshold", oldValue: "10000.00", newValue: "5000.00" },
      ],
      createdAt: { seconds: BigInt(Date.parse("2026-03-02T03:00:30Z") / 1000) },
    });
    const all = await fraud.admin.listRuleVersions({});
    expect(all.data.at(-1)?.version).toBe(1);

    // The same change again makes no new version; a stale expected_version is a conflict.
    const same = await fraud.admin.updateRules({
      highVelocity: { maxCount: 4 },
      highValue: { threshold: "5000.00" },
    });
    expect(same.rules?.version).toBe(rules?.version);
    await expectRefusal(
      fraud.admin.updateRules({ mode: RuleMode.SHADOW, expectedVersion: current?.version ?? 0 }),
      Code.Aborted,
      "CONFLICT",
      { current_version: String(rules?.version) },
    );
    await fraud.admin.updateRules({ highVelocity: { maxCount: 5 }, highValue: { threshold: "10000.00" } });
  });

  test("scores cap at 100 however many points the rules add", async ({ fraud }) => {
    const user = randomUUID();
    const night = new Date("2026-03-02T16:00:00Z");
    await fraud.feed(
      ...[9, 7, 5, 3, 1].map((m, i) => purchase(user, minutesBefore(night, m), `${40 + i}.00`)),
    );
    await fraud.admin.updateRules({
      highVelocity: { points: 60 },
      highValue: { points: 60 },
      offHours: { points: 60 },
    });
    try {
      const res = await fraud.score(scoreRequest(user, night, "20000.00"));
      expect(res.flags.map((f) => [f.rule, f.points])).toEqual([
        ["HIGH_VELOCITY", 60],
        ["UNUSUAL_AMOUNT", 20],
        ["HIGH_VALUE", 60],
        ["OFF_HOURS", 60],
      ]);
      expect(res).toMatchObject({ score: 100, decision: Decision.REVIEW });
    } finally {
      await fraud.admin.updateRules({
        highVelocity: { points: 20 },
        highValue: { points: 20 },
        offHours: { points: 20 },
      });
    }
  });

  test("refuses invalid rule sets, naming the field, and changes nothing", async ({ fraud }) => {
    const { rules: before } = await fraud.admin.getRules({});
    const bad: Array<[Parameters<typeof fraud.admin.updateRules>[0], string]> = [
      [{ reviewThreshold: 95 }, "auto_decline_threshold"],
      [{ reviewThreshold: 0 }, "review_threshold"],
      [{ highVelocity: { windowSeconds: 0 } }, "high_velocity.window_seconds"],
      [{ suspiciousVelocity: { points: -1 } }, "suspicious_velocity.points"],
      [{ unusualAmount: { multiplier: "three" } }, "unusual_amount.multiplier"],
      [{ highValue: { threshold: "10000.001" } }, "high_value.threshold"],
      [{ offHours: { start: "25:00" } }, "off_hours.start"],
      [{ possibleDuplicate: { windowSeconds: 86_401 } }, "possible_duplicate.window_seconds"],
      [{ mode: 7 as RuleMode }, "mode"],
    ];
    for (const [change, field] of bad) {
      await expectRefusal(fraud.admin.updateRules(change), Code.InvalidArgument, "VALIDATION_ERROR", {
        field,
      });
    }
    expect((await fraud.admin.getRules({})).rules?.version).toBe(before?.version);
  });
});

describe("audit", () => {
  test("a rule change is audited with the admin, the request and what changed", async ({ fraud }) => {
    const { rules: current } = await fraud.admin.getRules({});
    const version = current?.version ?? 0;
    await fraud
      .as("admin:auditor")
      .updateRules(
        { offHours: { points: 25 }, note: "night is riskier" },
        { headers: { "x-request-id": "rules-change-1" } },
      );
    // The same rules again write no version and so no entry.
    await fraud.as("admin:auditor").updateRules({ offHours: { points: 25 } });
    const entries = (
      await publishedEvents(
        fraud.nc,
        fraud.pg.pool,
        fraud.namespace,
        "fraud.audit.recorded",
        AuditEntrySchema,
      )
    ).filter((e) => e.actor?.id === "auditor");
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      service: "fraud",
      action: "fraud.update_rules",
      requestId: "rules-change-1",
      subjectType: "fraud_rules",
      subjectId: String(version + 1),
      before: { version, "off_hours.points": "20" },
      after: { version: version + 1, note: "night is riskier", "off_hours.points": "25" },
    });
    expect(entries[0]?.actor).toMatchObject({ kind: "user", roles: ["user", "admin"] });
  });
});
