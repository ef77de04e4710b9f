import { randomUUID } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { ReviewDecidedSchema, TransactionScoredSchema } from "@fintech/proto/fintech/fraud/v1/events_pb.js";
import { Decision, ReviewDecision } from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import { expect } from "vitest";
import { analyticsTest } from "./test/harness.js";

const test = analyticsTest();

test("fraud statistics count scores, decisions, flags and review outcomes per UTC day", async ({
  analytics,
}) => {
  const scored = (score: number, decision: Decision, rules: string[], at: string, extra = {}) =>
    toBinary(
      TransactionScoredSchema,
      create(TransactionScoredSchema, {
        transactionId: randomUUID(),
        userId: "u1",
        score,
        decision,
        ruleDecision: decision,
        ruleVersion: 3,
        flags: rules.map((rule) => ({ rule, points: 20 })),
        baseAmount: { currency: "MYR", amount: "100.00" },
        scoredAt: timestampFromDate(new Date(at)),
        ...extra,
      }),
    );
  await analytics.publish(
    "fraud.transaction.scored",
    scored(10, Decision.APPROVE, [], "2026-05-01T01:00:00Z"),
    randomUUID(),
  );
  await analytics.publish(
    "fraud.transaction.scored",
    scored(65, Decision.REVIEW, ["HIGH_VELOCITY", "OFF_HOURS", "POSSIBLE_DUPLICATE"], "2026-05-01T23:59:59Z"),
    randomUUID(),
  );
  await analytics.publish(
    "fraud.transaction.scored",
    scored(100, Decision.DECLINE, ["HIGH_VALUE", "HIGH_VELOCITY"], "2026-05-02T00:00:00Z"),
    randomUUID(),
  );
  await analytics.publish(
    "fraud.transaction.scored",
    scored(70, Decision.APPROVE, ["UNUSUAL_AMOUNT"], "2026-05-02T10:00:00Z", {
      shadow: true,
      ruleDecision: Decision.REVIEW,
    }),
    randomUUID(),
  );
  const review = (decision: ReviewDecision) =>
    toBinary(
      ReviewDecidedSchema,
      create(ReviewDecidedSchema, {
        transactionId: randomUUID(),
        userId: "u1",
        decision,
        analystId: "a1",
        decidedAt: timestampFromDate(new Date("2026-05-02T12:00:00Z")),
      }),
    );
  await analytics.publish("fraud.review.decided", review(ReviewDecision.APPROVE), randomUUID());
  await analytics.publish("fraud.review.decided", review(ReviewDecision.REJECT), randomUUID());
  await analytics.publish("fraud.rules.updated", new Uint8Array(), randomUUID());
  await analytics.settled("analytics-fraud", 6);

  const stats = await analytics.as("admin-1", ["user", "admin"]).getFraudStats({
    fromDate: "2026-05-01",
    toDate: "2026-05-02",
  });
  expect(stats).toMatchObject({
    scoredCount: 4n,
    averageScore: "61.25",
    shadowCount: 1n,
    reviewsApproved: 1n,
    reviewsRejected: 1n,
  });
  expect(stats.decisions.map((d) => [d.decision, d.count, d.amount])).toEqual([
    ["approve", 2n, "200.00"],
    ["review", 1n, "100.00"],
    ["decline", 1n, "100.00"],
  ]);
  expect(stats.ruleDecisions.map((d) => [d.decision, d.count])).toEqual([
    ["approve", 1n],
    ["review", 2n],
    ["decline", 1n],
  ]);
  expect(stats.flags.map((f) => [f.rule, f.count])).toEqual([
    ["HIGH_VELOCITY", 2n],
    ["HIGH_VALUE", 1n],
    ["OFF_HOURS", 1n],
    ["POSSIBLE_DUPLICATE", 1n],
    ["UNUSUAL_AMOUNT", 1n],
  ]);
  expect(stats.scoreDistribution.filter((b) => b.count > 0n).map((b) => [b.min, b.max, b.count])).toEqual([
    [10, 19, 1n],
    [60, 69, 1n],
    [70, 79, 1n],
    [90, 100, 1n],
  ]);
  expect(
    stats.days.map((d) => [d.date, d.scoredCount, d.approved, d.reviewed, d.declined, d.averageScore]),
  ).toEqual([
    ["2026-05-01", 2n, 1n, 1n, 0n, "37.50"],
    ["2026-05-02", 2n, 1n, 0n, 1n, "85.00"],
  ]);
});
