import { randomUUID } from "node:crypto";
import { Code } from "@connectrpc/connect";
import {
  Decision,
  ReviewDecision,
  ReviewStatus,
  RuleMode,
} from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import { describe, expect } from "vitest";
import { expectRefusal, fraudTest, scoreRequest } from "./test/harness.js";

const test = fraudTest();

describe("fraud statistics", () => {
  test("score distribution, flags by rule and decisions by outcome over a time range", async ({ fraud }) => {
    const day = "2026-03-05";
    const at = (hhmm: string) => new Date(`${day}T${hhmm}:00Z`);
    const score = async (utc: string, amount: string) => {
      fraud.clock.set(at(utc));
      return fraud.score(scoreRequest(randomUUID(), at(utc), amount));
    };
    await score("03:00", "10.00"); // 0
    await score("03:01", "10000.01"); // HIGH_VALUE 20
    await score("15:30", "10.00"); // OFF_HOURS 20 (23:30 in Kuala Lumpur)
    await fraud.admin.updateRules({ highValue: { points: 45 }, offHours: { points: 45 } });
    const held = await score("15:31", "10000.01"); // 90: review
    await fraud.admin.updateRules({ mode: RuleMode.SHADOW });
    const shadowed = await score("15:32", "10000.01"); // 90, approved in shadow mode
    await fraud.admin.updateRules({
      mode: RuleMode.ENFORCE,
      highValue: { points: 20 },
      offHours: { points: 20 },
    });
    expect([held.decision, shadowed.decision]).toEqual([Decision.REVIEW, Decision.APPROVE]);
    await fraud.admin.decideReview({ transactionId: held.transactionId, decision: ReviewDecision.APPROVE });
    await score("23:59", "10.00"); // outside the range below

    const stats = await fraud.admin.getStats({ startTime: day, endTime: `${day}T16:00:00Z` });
    expect(stats.scored).toBe(5n);
    expect(stats.averageScore).toBe("44.00"); // (0 + 20 + 20 + 90 + 90) / 5
    expect(stats.scoreDistribution.map((b) => [b.from, b.count])).toEqual([
      [0, 1n],
      [10, 0n],
      [20, 2n],
      [30, 0n],
      [40, 0n],
      [50, 0n],
      [60, 0n],
      [70, 0n],
      [80, 0n],
      [90, 2n],
    ]);
    expect(stats.flagsByRule).toEqual([
      expect.objectContaining({ rule: "HIGH_VALUE", count: 3n }),
      expect.objectContaining({ rule: "OFF_HOURS", count: 3n }),
    ]);
    const counts = (list: Array<{ decision: Decision; count: bigint }>) =>
      list.map((d) => [d.decision, d.count]);
    expect(counts(stats.decisions)).toEqual([
      [Decision.APPROVE, 4n],
      [Decision.REVIEW, 1n],
      [Decision.DECLINE, 0n],
    ]);
    expect(counts(stats.ruleDecisions)).toEqual([
      [Decision.APPROVE, 3n],
      [Decision.REVIEW, 2n],
      [Decision.DECLINE, 0n],
    ]);
    expect(stats.shadowScored).toBe(1n);
    expect(stats.reviews.map((r) => [r.status, r.count])).toEqual([
      [ReviewStatus.OPEN, 0n],
      [ReviewStatus.APPROVED, 1n],
      [ReviewStatus.REJECTED, 0n],
    ]);
  });

  test("refuses a range that does not parse or ends before it starts", async ({ fraud }) => {
    await expectRefusal(
      fraud.admin.getStats({ startTime: "yesterday" }),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
      {
        field: "start_time",
      },
    );
    await expectRefusal(
      fraud.admin.getStats({ startTime: "2026-03-05", endTime: "2026-03-04" }),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
      { field: "end_time" },
    );
  });
});
