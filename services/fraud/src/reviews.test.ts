import { randomUUID } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { AuditEntrySchema } from "@fintech/proto/fintech/audit/v1/audit_pb.js";
import { ReviewDecidedSchema, TransactionScoredSchema } from "@fintech/proto/fintech/fraud/v1/events_pb.js";
import {
  Decision,
  ReviewDecision,
  ReviewStatus,
  RuleMode,
} from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import { describe, expect } from "vitest";
import type { FraudHarness } from "./test/harness.js";
import {
  expectRefusal,
  fraudTest,
  minutesBefore,
  publishedEvents,
  purchase,
  scoreRequest,
} from "./test/harness.js";

const test = fraudTest();
const T = new Date("2026-03-02T03:00:00Z"); // 11:00 in Kuala Lumpur
const NIGHT = new Date("2026-03-02T16:00:00Z"); // 00:00 in Kuala Lumpur

/**
 * A user with 5 transactions in the last 10 minutes, all within the hour, plus 5 more within the hour; each
 * large enough that 12,000.00 is not 3x their average (UNUSUAL_AMOUNT counts the same day's history).
 */
async function busyUser(fraud: FraudHarness, at = T): Promise<string> {
  const user = randomUUID();
  const minutes = [55, 50, 45, 40, 35, 9, 7, 5, 3, 1];
  await fraud.feed(...minutes.map((m, i) => purchase(user, minutesBefore(at, m), `${5000 + i}.00`)));
  return user;
}

describe("decisions", () => {
  test("scores add up: velocity twice and high value make 60, held for review in the same transaction", async ({
    fraud,
  }) => {
    const user = await busyUser(fraud);
    const req = scoreRequest(user, T, "12000.00");
    const res = await fraud.score(req);
    expect(res.flags.map((f) => f.rule)).toEqual(["HIGH_VELOCITY", "SUSPICIOUS_VELOCITY", "HIGH_VALUE"]);
    expect(res).toMatchObject({
      score: 60,
      decision: Decision.REVIEW,
      ruleDecision: Decision.REVIEW,
      shadow: false,
    });

    const { data } = await fraud.admin.listReviews({ userId: user });
    expect(data).toHaveLength(1);
    expect(data[0]).toMatchObject({
      transactionId: req.transactionId,
      status: ReviewStatus.OPEN,
      score: 60,
      amount: { currency: "MYR", amount: "12000.00" },
      merchantName: "Kedai Kopi",
      ruleVersion: res.ruleVersion,
    });

    // The same at midnight in the user's time zone: off-hours on top, 80.
    const owl = await busyUser(fraud, NIGHT);
    const late = await fraud.score(scoreRequest(owl, NIGHT, "12000.00"));
    expect(late.flags.map((f) => f.rule)).toEqual([
      "HIGH_VELOCITY",
      "SUSPICIOUS_VELOCITY",
      "HIGH_VALUE",
      "OFF_HOURS",
    ]);
    expect(late).toMatchObject({ score: 80, decision: Decision.REVIEW });
  });

  test("scoring a transaction again returns the recorded result and records nothing new", async ({
    fraud,
  }) => {
    const user = await busyUser(fraud);
    const req = scoreRequest(user, T, "12000.00");
    const first = await fraud.score(req);
    fraud.clock.advance(60_000);
    const again = await fraud.score({ ...req, amount: { currency: "MYR", amount: "1.00" } });
    expect(again).toEqual(first);
    const { rows } = await fraud.pg.pool.query("SELECT 1 FROM reviews WHERE transaction_id = $1", [
      req.transactionId,
    ]);
    expect(rows).toHaveLength(1);
    const scored = await publishedEvents(
      fraud,
      "fraud.transaction.scored",
      TransactionScoredSchema,
      (m) => m.transactionId === req.transactionId,
    );
    expect(scored).toHaveLength(1);
    expect(scored[0]).toMatchObject({
      score: 60,
      decision: Decision.REVIEW,
      baseAmount: { amount: "12000.00" },
    });
  });

  test("concurrent scores are written together; the same transaction among them is recorded once", async ({
    fraud,
  }) => {
    const user = await busyUser(fraud);
    const same = scoreRequest(user, T, "12000.00");
    const others = Array.from({ length: 20 }, (_, i) => scoreRequest(randomUUID(), T, `${i + 1}.00`));
    const results = await Promise.all([same, ...others, same, same].map((r) => fraud.score(r)));
    const mine = results.filter((r) => r.transactionId === same.transactionId);
    expect(mine).toHaveLength(3);
    expect(mine[1]).toEqual(mine[0]);
    expect(mine[2]).toEqual(mine[0]);
    expect(mine[0]).toMatchObject({ score: 60, decision: Decision.REVIEW });
    // Approved scores are written after they are answered.
    await fraud.app.service.flushed();
    const { rows } = await fraud.pg.pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM scores WHERE transaction_id = ANY($1)",
      [[same.transactionId, ...others.map((o) => o.transactionId)]],
    );
    expect(rows[0]?.n).toBe(21);
    const reviews = await fraud.admin.listReviews({ userId: user });
    expect(reviews.data.map((r) => r.transactionId)).toEqual([same.transactionId]);
    const events = await publishedEvents(
      fraud,
      "fraud.transaction.scored",
      TransactionScoredSchema,
      (m) => m.transactionId === same.transactionId,
    );
    expect(events).toHaveLength(1);
  });

  test("shadow mode scores and records but approves everything; the rules' decision is kept", async ({
    fraud,
  }) => {
    const before = await fraud.admin.getRules({});
    await fraud.admin.updateRules({ mode: RuleMode.SHADOW, note: "trying it out" });
    try {
      const user = await busyUser(fraud);
      const req = scoreRequest(user, T, "12000.00");
      const res = await fraud.score(req);
      expect(res).toMatchObject({
        score: 60,
        decision: Decision.APPROVE,
        ruleDecision: Decision.REVIEW,
        shadow: true,
        ruleVersion: (before.rules?.version ?? 0) + 1,
      });
      // No case is opened for a transaction the caller was told to approve.
      expect((await fraud.admin.listReviews({ userId: user })).data).toEqual([]);
      const { rows } = await fraud.pg.pool.query(
        "SELECT decision, rule_decision, shadow, rule_version FROM scores WHERE transaction_id = $1",
        [req.transactionId],
      );
      expect(rows).toEqual([
        { decision: "approve", rule_decision: "review", shadow: true, rule_version: res.ruleVersion },
      ]);
    } finally {
      await fraud.admin.updateRules({ mode: RuleMode.ENFORCE });
    }
  });

  test("auto-decline at 90 only when enabled", async ({ fraud }) => {
    const user = await busyUser(fraud);
    const night = (amount: string) => scoreRequest(user, new Date(T.getTime() + 13 * 3_600_000), amount);
    // HIGH_VALUE 20 + OFF_HOURS 20 + raised points: 50 + 40 = 90.
    await fraud.admin.updateRules({ highValue: { points: 50 }, offHours: { points: 40 } });
    try {
      expect(await fraud.score(night("12000.00"))).toMatchObject({ score: 90, decision: Decision.REVIEW });
      await fraud.admin.updateRules({ autoDeclineEnabled: true });
      const declined = await fraud.score(night("12000.00"));
      expect(declined).toMatchObject({
        score: 90,
        decision: Decision.DECLINE,
        ruleDecision: Decision.DECLINE,
      });
      expect(await fraud.score(night("10000.00"))).toMatchObject({ score: 40, decision: Decision.APPROVE });
    } finally {
      await fraud.admin.updateRules({
        autoDeclineEnabled: false,
        highValue: { points: 20 },
        offHours: { points: 20 },
      });
    }
  });
});

describe("review queue", () => {
  async function openCase(fraud: FraudHarness, user: string, minutesLater = 0): Promise<string> {
    const req = scoreRequest(user, new Date(T.getTime() + minutesLater * 60_000), "12000.00");
    const res = await fraud.score(req);
    expect(res.decision).toBe(Decision.REVIEW);
    return req.transactionId ?? "";
  }

  test("lists open cases oldest first, filtered and paginated", async ({ fraud }) => {
    const user = await busyUser(fraud);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      fraud.clock.set(new Date(T.getTime() + i * 1000));
      ids.push(await openCase(fraud, user));
    }
    const first = await fraud.admin.listReviews({ userId: user, limit: 2 });
    expect(first.data.map((r) => r.transactionId)).toEqual(ids.slice(0, 2));
    expect(first.hasMore).toBe(true);
    const second = await fraud.admin.listReviews({ userId: user, limit: 2, cursor: first.nextCursor });
    expect(second.data.map((r) => r.transactionId)).toEqual(ids.slice(2));
    expect(second.hasMore).toBe(false);
    expect((await fraud.admin.listReviews({ userId: user, minScore: 61 })).data).toEqual([]);
    expect((await fraud.admin.listReviews({ userId: user, status: ReviewStatus.APPROVED })).data).toEqual([]);
    await expectRefusal(
      fraud.admin.listReviews({ cursor: "junk" }),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
      {
        field: "cursor",
      },
    );
  });

  test("a case is decided once, by the analyst calling, and fraud.review.decided is published", async ({
    fraud,
  }) => {
    const user = await busyUser(fraud);
    const id = await openCase(fraud, user);
    const { review } = await fraud.admin.decideReview({
      transactionId: id,
      decision: ReviewDecision.REJECT,
      note: "card reported stolen",
    });
    expect(review).toMatchObject({
      status: ReviewStatus.REJECTED,
      decision: ReviewDecision.REJECT,
      analystId: "analyst-1",
      note: "card reported stolen",
    });
    await expectRefusal(
      fraud.as("admin:analyst-2").decideReview({
        transactionId: id,
        decision: ReviewDecision.APPROVE,
      }),
      Code.FailedPrecondition,
      "REVIEW_ALREADY_DECIDED",
      { transaction_id: id, status: "rejected" },
    );
    const decided = await publishedEvents(
      fraud,
      "fraud.review.decided",
      ReviewDecidedSchema,
      (m) => m.transactionId === id,
    );
    expect(decided).toHaveLength(1);
    expect(decided[0]).toMatchObject({
      userId: user,
      decision: ReviewDecision.REJECT,
      analystId: "analyst-1",
      note: "card reported stolen",
    });
    const rejected = await fraud.admin.listReviews({ userId: user, status: ReviewStatus.REJECTED });
    expect(rejected.data.map((r) => r.transactionId)).toEqual([id]);
    // The decision, and only the one that happened, is in the audit trail.
    const audited = await publishedEvents(
      fraud,
      "fraud.audit.recorded",
      AuditEntrySchema,
      (m) => m.subjectId === id,
    );
    expect(audited).toHaveLength(1);
    expect(audited[0]).toMatchObject({
      action: "fraud.decide_review",
      subjectType: "review",
      actor: { kind: "user", id: "analyst-1" },
      before: { status: "open" },
      after: { status: "rejected", note: "card reported stolen" },
    });
  });

  test("concurrent decisions on one case: exactly one wins", async ({ fraud }) => {
    const id = await openCase(fraud, await busyUser(fraud));
    const results = await Promise.allSettled(
      ["a1", "a2", "a3", "a4"].map((a) =>
        fraud.as(`admin:${a}`).decideReview({
          transactionId: id,
          decision: ReviewDecision.APPROVE,
        }),
      ),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
  });

  test("refuses unknown cases and bad decisions", async ({ fraud }) => {
    await expectRefusal(
      fraud.admin.decideReview({ transactionId: randomUUID(), decision: ReviewDecision.APPROVE }),
      Code.NotFound,
      "REVIEW_NOT_FOUND",
    );
    await expectRefusal(
      fraud.admin.decideReview({ transactionId: randomUUID() }),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
      { field: "decision" },
    );
    await expectRefusal(
      fraud.admin.decideReview({
        transactionId: randomUUID(),
        decision: ReviewDecision.APPROVE,
        note: "x".repeat(1001),
      }),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
      { field: "note" },
    );
  });
});

describe("who may call what", () => {
  test("Score is for the wallet service; reviews and rules are for admins", async ({ fraud }) => {
    const req = scoreRequest(randomUUID(), T);
    await expectRefusal(fraud.as("").score(req), Code.Unauthenticated, "UNAUTHENTICATED");
    await expectRefusal(fraud.admin.score(req), Code.PermissionDenied, "FORBIDDEN");
    await expectRefusal(fraud.as("service:ledger").score(req), Code.PermissionDenied, "FORBIDDEN");
    await expectRefusal(fraud.as("user:u1").listReviews({}), Code.PermissionDenied, "FORBIDDEN");
    await expectRefusal(fraud.wallet.getRules({}), Code.PermissionDenied, "FORBIDDEN");
    // Authorization comes before validation: a non-admin learns nothing about the request's shape.
    await expectRefusal(fraud.as("user:u1").listReviews({ limit: 1000 }), Code.PermissionDenied, "FORBIDDEN");
  });

  test("Score refuses what a caller sent wrong with VALIDATION_ERROR naming the field", async ({ fraud }) => {
    const ok = scoreRequest(randomUUID(), T);
    const bad: Array<[Partial<typeof ok>, string]> = [
      [{ transactionId: "" }, "transaction_id"],
      [{ userId: "" }, "user_id"],
      [{ type: 0 }, "type"],
      [{ amount: { currency: "MYR", amount: "0" } }, "amount.amount"],
      [{ amount: { currency: "MYR", amount: "1.001" } }, "amount.amount"],
      [{ amount: { currency: "XYZ", amount: "1" } }, "amount.currency"],
      [{ baseAmount: undefined }, "base_amount"],
      [{ baseAmount: { currency: "USD", amount: "1.00" } }, "base_amount.currency"],
      [{ timezone: "Mars/Olympus" }, "timezone"],
    ];
    for (const [change, field] of bad) {
      await expectRefusal(fraud.score({ ...ok, ...change }), Code.InvalidArgument, "VALIDATION_ERROR", {
        field,
      });
    }
  });
});
