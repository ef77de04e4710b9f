import type { MessageInitShape } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import { auditOrigin } from "@fintech/auth";
import { formatAmount, parseAmount } from "@fintech/money";
import type { Clock } from "@fintech/platform";
import { pageSize } from "@fintech/platform";
import type {
  Review,
  RuleSet,
  ScoreRequest,
  ScoreResponseSchema,
  UpdateRulesRequest,
  VelocityRule,
} from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import {
  Decision as DecisionEnum,
  FraudService,
  ReviewDecision,
  ReviewSchema,
  ReviewStatus as ReviewStatusEnum,
  RuleMode as RuleModeEnum,
  RuleSetSchema,
  RuleVersionSchema,
} from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import { analystOf } from "./access.js";
import { FraudError } from "./errors.js";
import type { FraudService as Fraud } from "./fraud-service.js";
import type { RuleConfig, RuleMode, RulePatch } from "./rules.js";
import type { Decision } from "./scoring.js";
import type { ReviewRow, ReviewStatus, StoredRuleVersion } from "./store.js";
import { parseTimeBound } from "./validation.js";

// The RPC surface: decimal strings and proto enums at the edge, bigint minor units and words inside.
// Requests have passed access.ts and validation.ts.

const DEFAULT_STATS_DAYS = 7;
const DAY_MS = 86_400_000;

const decisionEnum: Record<Decision, DecisionEnum> = {
  approve: DecisionEnum.APPROVE,
  review: DecisionEnum.REVIEW,
  decline: DecisionEnum.DECLINE,
};
const statusEnum: Record<ReviewStatus, ReviewStatusEnum> = {
  open: ReviewStatusEnum.OPEN,
  approved: ReviewStatusEnum.APPROVED,
  rejected: ReviewStatusEnum.REJECTED,
};
const statusOf: Record<ReviewStatusEnum, ReviewStatus> = {
  [ReviewStatusEnum.UNSPECIFIED]: "open",
  [ReviewStatusEnum.OPEN]: "open",
  [ReviewStatusEnum.APPROVED]: "approved",
  [ReviewStatusEnum.REJECTED]: "rejected",
};
const modeEnum: Record<RuleMode, RuleModeEnum> = {
  enforce: RuleModeEnum.ENFORCE,
  shadow: RuleModeEnum.SHADOW,
};

export function fraudRoutes(fraud: Fraud, opts: { baseCurrency: string; clock: Clock }) {
  const { baseCurrency, clock } = opts;

  async function score(req: ScoreRequest): Promise<MessageInitShape<typeof ScoreResponseSchema>> {
    const amount = req.amount ?? { currency: "", amount: "" };
    const base = req.baseAmount ?? { currency: "", amount: "" };
    const s = await fraud.score({
      transactionId: req.transactionId,
      userId: req.userId,
      type: req.type,
      amountMinor: parseAmount(amount.amount, amount.currency),
      currency: amount.currency,
      baseAmountMinor: parseAmount(base.amount, baseCurrency),
      merchantName: req.merchantName,
      merchantCategory: req.merchantCategory,
      timezone: req.timezone,
      occurredAt: req.occurredAt ? timestampDate(req.occurredAt) : undefined,
    });
    return {
      transactionId: s.transactionId,
      score: s.score,
      flags: s.flags,
      decision: decisionEnum[s.decision],
      ruleDecision: decisionEnum[s.ruleDecision],
      ruleVersion: s.ruleVersion,
      shadow: s.shadow,
      scoredAt: timestampFromDate(s.scoredAt),
    };
  }

  return (router: ConnectRouter) =>
    router.service(FraudService, {
      score,

      async scoreBatch(req) {
        // Each as Score: the service's own statements are shared by concurrent scores.
        return { results: await Promise.all(req.requests.map(score)) };
      },

      async listReviews(req) {
        const page = await fraud.listReviews({
          status: statusOf[req.status],
          userId: req.userId || undefined,
          minScore: req.minScore || undefined,
          limit: pageSize(req.limit),
          cursor: req.cursor || undefined,
        });
        return {
          data: page.data.map(reviewMessage),
          hasMore: page.nextCursor !== undefined,
          nextCursor: page.nextCursor ?? "",
        };
      },

      async decideReview(req, ctx) {
        const review = await fraud.decideReview(
          req.transactionId,
          req.decision === ReviewDecision.APPROVE ? "approve" : "reject",
          analystOf(ctx),
          req.note,
          auditOrigin(ctx),
        );
        return { review: reviewMessage(review) };
      },

      async getRules() {
        return { rules: ruleSetMessage(await fraud.getRules()) };
      },

      async updateRules(req, ctx) {
        const version = await fraud.updateRules(
          patchOf(req),
          `admin:${analystOf(ctx)}`,
          req.note,
          req.expectedVersion,
          auditOrigin(ctx),
        );
        return { rules: ruleSetMessage(version) };
      },

      async listRuleVersions(req) {
        const page = await fraud.ruleVersions(pageSize(req.limit), req.cursor || undefined);
        return {
          data: page.data.map((v) =>
            create(RuleVersionSchema, {
              version: v.version,
              rules: ruleSetMessage(v),
              changedBy: v.changedBy,
              note: v.note,
              changes: v.changes,
              createdAt: timestampFromDate(v.createdAt),
            }),
          ),
          hasMore: page.nextCursor !== undefined,
          nextCursor: page.nextCursor ?? "",
        };
      },

      async getStats(req) {
        const end = parseTimeBound(req.endTime) ?? clock.now();
        const start = parseTimeBound(req.startTime) ?? new Date(end.getTime() - DEFAULT_STATS_DAYS * DAY_MS);
        if (start >= end) {
          throw new FraudError("VALIDATION_ERROR", "start_time must be before end_time", {
            field: "start_time",
          });
        }
        const s = await fraud.stats(start, end);
        const buckets = Array.from({ length: 10 }, (_, i) => ({
          from: i * 10,
          to: i === 9 ? 101 : (i + 1) * 10,
          count: s.buckets.find((b) => b.bucket === i)?.count ?? 0n,
        }));
        const decisions = (rows: Array<{ decision: Decision; count: bigint }>) =>
          (["approve", "review", "decline"] as const).map((d) => ({
            decision: decisionEnum[d],
            count: rows.find((r) => r.decision === d)?.count ?? 0n,
          }));
        return {
          startTime: timestampFromDate(start),
          endTime: timestampFromDate(end),
          scored: s.scored,
          averageScore: s.average ?? "0.00",
          scoreDistribution: buckets,
          flagsByRule: s.flags,
          decisions: decisions(s.decisions),
          ruleDecisions: decisions(s.ruleDecisions),
          shadowScored: s.shadow,
          reviews: (["open", "approved", "rejected"] as const).map((st) => ({
            status: statusEnum[st],
            count: s.reviews.find((r) => r.status === st)?.count ?? 0n,
          })),
        };
      },
    });

  function reviewMessage(r: ReviewRow): Review {
    return create(ReviewSchema, {
      transactionId: r.transactionId,
      userId: r.userId,
      status: statusEnum[r.status],
      score: r.score,
      flags: r.flags,
      type: r.type,
      amount: { currency: r.currency, amount: formatAmount(r.amountMinor, r.currency) },
      baseAmount: { currency: r.baseCurrency, amount: formatAmount(r.baseAmountMinor, r.baseCurrency) },
      merchantName: r.merchantName,
      merchantCategory: r.merchantCategory,
      ruleVersion: r.ruleVersion,
      occurredAt: timestampFromDate(r.occurredAt),
      createdAt: timestampFromDate(r.createdAt),
      decision:
        r.status === "approved"
          ? ReviewDecision.APPROVE
          : r.status === "rejected"
            ? ReviewDecision.REJECT
            : ReviewDecision.UNSPECIFIED,
      analystId: r.analystId ?? "",
      note: r.note ?? "",
      decidedAt: r.decidedAt ? timestampFromDate(r.decidedAt) : undefined,
    });
  }
}

function ruleSetMessage(v: StoredRuleVersion): RuleSet {
  const r: RuleConfig = v.rules;
  return create(RuleSetSchema, {
    version: v.version,
    mode: modeEnum[r.mode],
    reviewThreshold: r.reviewThreshold,
    autoDeclineThreshold: r.autoDeclineThreshold,
    autoDeclineEnabled: r.autoDeclineEnabled,
    highVelocity: r.highVelocity,
    suspiciousVelocity: r.suspiciousVelocity,
    unusualAmount: r.unusualAmount,
    highValue: r.highValue,
    offHours: r.offHours,
    possibleDuplicate: r.possibleDuplicate,
    updatedBy: v.changedBy,
    updatedAt: timestampFromDate(v.createdAt),
  });
}

/** The fields the request sets; proto3 `optional` tells "left out" from zero or false. */
function patchOf(req: UpdateRulesRequest): RulePatch {
  const velocity = (m: VelocityRule | undefined): RulePatch["highVelocity"] =>
    m && { enabled: m.enabled, points: m.points, maxCount: m.maxCount, windowSeconds: m.windowSeconds };
  const { unusualAmount: ua, highValue: hv, offHours: oh, possibleDuplicate: pd } = req;
  return {
    mode: req.mode === undefined ? undefined : req.mode === RuleModeEnum.SHADOW ? "shadow" : "enforce",
    reviewThreshold: req.reviewThreshold,
    autoDeclineThreshold: req.autoDeclineThreshold,
    autoDeclineEnabled: req.autoDeclineEnabled,
    highVelocity: velocity(req.highVelocity),
    suspiciousVelocity: velocity(req.suspiciousVelocity),
    unusualAmount: ua && {
      enabled: ua.enabled,
      points: ua.points,
      multiplier: ua.multiplier,
      lookbackDays: ua.lookbackDays,
      minTransactions: ua.minTransactions,
    },
    highValue: hv && { enabled: hv.enabled, points: hv.points, threshold: hv.threshold },
    offHours: oh && { enabled: oh.enabled, points: oh.points, start: oh.start, end: oh.end },
    possibleDuplicate: pd && { enabled: pd.enabled, points: pd.points, windowSeconds: pd.windowSeconds },
  };
}
