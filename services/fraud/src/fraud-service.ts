import { setTimeout as sleep } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { AuditOrigin } from "@fintech/auth";
import { auditEvent } from "@fintech/auth";
import { createBatcher, withTransaction } from "@fintech/db";
import { enqueue, outboxRow } from "@fintech/events";
import { formatAmount } from "@fintech/money";
import type { Clock } from "@fintech/platform";
import { cursorParts, pageCursor, takePage } from "@fintech/platform";
import { ReviewDecidedSchema, TransactionScoredSchema } from "@fintech/proto/fintech/fraud/v1/events_pb.js";
import { Decision as DecisionEnum, ReviewDecision } from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import type pg from "pg";
import type { Logger } from "pino";
import { BATCHING } from "./batching.js";
import { FraudError } from "./errors.js";
import type { FeatureStore } from "./features.js";
import { signatureOf } from "./features.js";
import type { FraudMetrics } from "./metrics.js";
import type { RuleBook } from "./rule-book.js";
import type { RulePatch } from "./rules.js";
import { longestWindowMs, MAX_LOOKBACK_DAYS } from "./rules.js";
import type { Decision } from "./scoring.js";
import { evaluate } from "./scoring.js";
import type { ReviewRow, ReviewStatus, ScoreInsert, ScoreRow, StoredRuleVersion } from "./store.js";
import { store } from "./store.js";

/** A transaction to score, as the RPC edge hands it over (validated: ids set, amounts positive, zone known). */
export interface ScoreInput {
  transactionId: string;
  userId: string;
  /** fintech.wallet.v1.TransactionType number. */
  type: number;
  amountMinor: bigint;
  currency: string;
  /** In the base currency. */
  baseAmountMinor: bigint;
  merchantName: string;
  merchantCategory: string;
  /** IANA zone; "" is UTC. */
  timezone: string;
  /** Default: the clock's now. */
  occurredAt?: Date | undefined;
}

export interface FraudSettings {
  /** The currency of base amounts and of HIGH_VALUE's threshold, e.g. "MYR". */
  baseCurrency: string;
  /** How long per-user transaction rows are kept, in milliseconds (at least the longest window). */
  transactionRetentionMs: number;
}

export interface Page<T> {
  data: T[];
  nextCursor: string | undefined;
}

export type AnalystDecision = "approve" | "reject";

const decisionEnum: Record<Decision, DecisionEnum> = {
  approve: DecisionEnum.APPROVE,
  review: DecisionEnum.REVIEW,
  decline: DecisionEnum.DECLINE,
};

const DAY_MS = 86_400_000;
/** An answered score whose write failed is tried again this often, in ms, for WRITE_GIVE_UP_MS. */
const WRITE_RETRY_MS = 1_000;
const WRITE_GIVE_UP_MS = 120_000;

/**
 * The fraud domain: scoring from precomputed features, the review queue, the versioned rules and their
 * statistics. Amounts are bigint minor units.
 */
export function createFraudService(deps: {
  pool: pg.Pool;
  features: FeatureStore;
  rules: RuleBook;
  clock: Clock;
  metrics: FraudMetrics;
  logger: Logger;
  settings: FraudSettings;
}) {
  const { pool, features, rules, clock, metrics, logger, settings } = deps;
  // Concurrent scores are written together: one statement, one WAL flush for many (libs/db's batcher).
  const writer = createBatcher({
    ...BATCHING,
    flush: async (items: readonly ScoreInsert[]) => {
      const inserted = await store.insertScores(pool, items);
      return items.map((i) => inserted.has(i.row.transactionId));
    },
    // The same transaction twice in one statement would look new to both callers.
    keyOf: (i) => i.row.transactionId,
  });
  // Scores answered and not written yet, by transaction id: a repeat is answered the same, and reads of
  // scores through this service wait for them.
  const unwritten = new Map<string, { row: ScoreRow; written: Promise<void> }>();

  /** Until every score answered so far is written (or given up on). */
  async function answeredWritten(): Promise<void> {
    await Promise.all([...unwritten.values()].map((u) => u.written));
  }

  /**
   * Writes an answered score through the batcher, retrying while the database is away (WRITE_RETRY_MS apart,
   * for WRITE_GIVE_UP_MS); never throws. A score given up on is logged and counted: the wallet has its
   * answer, only the record (and its event) is missing.
   */
  async function writeAnswered(item: ScoreInsert, mode: string): Promise<void> {
    const id = item.row.transactionId;
    const giveUpAt = Date.now() + WRITE_GIVE_UP_MS;
    try {
      for (;;) {
        try {
          if (await writer.submit(item)) metrics.scores.inc({ decision: item.row.decision, mode });
          return;
        } catch (err) {
          if (Date.now() >= giveUpAt) {
            metrics.scoresUnrecorded.inc();
            logger.error({ err, transaction_id: id }, "an answered score could not be recorded");
            return;
          }
          logger.warn({ err, transaction_id: id }, "recording an answered score failed; trying again");
          await sleep(WRITE_RETRY_MS);
        }
      }
    } finally {
      unwritten.delete(id);
    }
  }

  /**
   * The score of `input` under the current rules, what recording it writes, and whether the transaction has a
   * score recorded already (the features' statement tells).
   */
  async function evaluateScore(
    input: ScoreInput,
  ): Promise<{ row: ScoreRow; item: ScoreInsert; mode: string; scoredBefore: boolean }> {
    const { stored, compiled } = await rules.current();
    const { config } = compiled;
    const at = input.occurredAt ?? clock.now();
    const timezone = input.timezone || "UTC";
    const signature = signatureOf({
      type: input.type,
      currency: input.currency,
      amountMinor: input.amountMinor,
      merchant: input.merchantName,
    });
    const f = await features.read({
      transactionId: input.transactionId,
      userId: input.userId,
      at,
      signature,
      highVelocityMs: config.highVelocity.windowSeconds * 1000,
      suspiciousVelocityMs: config.suspiciousVelocity.windowSeconds * 1000,
      duplicateMs: config.possibleDuplicate.windowSeconds * 1000,
      longestMs: longestWindowMs(config),
      lookbackDays: config.unusualAmount.lookbackDays,
    });
    const { score, flags, ruleDecision } = evaluate(
      compiled,
      { baseAmountMinor: input.baseAmountMinor, occurredAt: at, timezone },
      f,
    );
    const shadow = config.mode === "shadow";
    const decision: Decision = shadow ? "approve" : ruleDecision;
    const row: ScoreRow = {
      transactionId: input.transactionId,
      userId: input.userId,
      type: input.type,
      amountMinor: input.amountMinor,
      currency: input.currency,
      baseAmountMinor: input.baseAmountMinor,
      baseCurrency: settings.baseCurrency,
      merchantName: input.merchantName,
      merchantCategory: input.merchantCategory,
      timezone,
      occurredAt: at,
      scoredAt: clock.now(),
      score,
      flags,
      decision,
      ruleDecision,
      shadow,
      ruleVersion: stored.version,
    };
    const event = create(TransactionScoredSchema, {
      transactionId: row.transactionId,
      userId: row.userId,
      score,
      flags,
      decision: decisionEnum[decision],
      ruleDecision: decisionEnum[ruleDecision],
      ruleVersion: row.ruleVersion,
      shadow,
      baseAmount: {
        currency: settings.baseCurrency,
        amount: formatAmount(row.baseAmountMinor, settings.baseCurrency),
      },
      occurredAt: timestampFromDate(at),
      scoredAt: timestampFromDate(row.scoredAt),
    });
    const item: ScoreInsert = {
      row,
      openReview: decision === "review",
      event: outboxRow({
        type: "fraud.transaction.scored",
        schema: TransactionScoredSchema,
        message: event,
      }),
    };
    return { row, item, mode: config.mode, scoredBefore: f.scored };
  }

  return {
    /**
     * Scores one transaction. The score, its review case (decision review) and fraud.transaction.scored are
     * recorded atomically, in one statement with concurrent scores: before answering for a review (the case
     * must exist before the wallet holds the money for it), after answering otherwise, so that a payment
     * does not wait for fraud's commit. Scoring a transaction id again returns the first record (or the
     * first answer, not written yet) and writes nothing.
     */
    async score(input: ScoreInput): Promise<ScoreRow> {
      const waiting = unwritten.get(input.transactionId);
      if (waiting !== undefined) return waiting.row;
      const scored = await evaluateScore(input);
      const earlier = scored.scoredBefore ? await store.getScore(pool, input.transactionId) : undefined;
      if (earlier !== undefined) return earlier;
      const racing = unwritten.get(input.transactionId);
      if (racing !== undefined) return racing.row;
      const { row, item, mode } = scored;
      if (row.decision !== "review") {
        unwritten.set(row.transactionId, { row, written: writeAnswered(item, mode) });
        return row;
      }
      const inserted = await writer.submit(item);
      const first = inserted ? row : await store.getScore(pool, input.transactionId);
      if (!first) throw new Error(`score of ${input.transactionId} vanished after a conflict`);
      if (inserted) metrics.scores.inc({ decision: row.decision, mode });
      return first;
    },
    /** Review cases with `status`, oldest first. */
    async listReviews(filter: {
      status: ReviewStatus;
      userId?: string | undefined;
      minScore?: number | undefined;
      limit: number;
      cursor?: string | undefined;
    }): Promise<Page<ReviewRow>> {
      await answeredWritten();
      const rows = await store.listReviews(pool, {
        status: filter.status,
        userId: filter.userId,
        minScore: filter.minScore,
        after: filter.cursor === undefined ? undefined : reviewCursor.decode(filter.cursor),
        limit: filter.limit + 1,
      });
      const { items, nextPageToken } = takePage(rows, filter.limit, (last) => reviewCursor.encode(last));
      return { data: items, nextCursor: nextPageToken };
    },

    /**
     * Decides an open review case, once, and publishes fraud.review.decided.
     * @throws FraudError REVIEW_NOT_FOUND, REVIEW_ALREADY_DECIDED.
     */
    async decideReview(
      transactionId: string,
      decision: AnalystDecision,
      analystId: string,
      note: string,
      origin: AuditOrigin,
    ): Promise<ReviewRow> {
      return withTransaction(pool, async (tx) => {
        const review = await store.getReview(tx, transactionId, { forUpdate: true });
        if (!review) {
          throw new FraudError("REVIEW_NOT_FOUND", `no review case for transaction ${transactionId}`, {
            transaction_id: transactionId,
          });
        }
        if (review.status !== "open") {
          throw new FraudError(
            "REVIEW_ALREADY_DECIDED",
            `the review of transaction ${transactionId} was already decided (${review.status})`,
            {
              transaction_id: transactionId,
              status: review.status,
              decided_at: review.decidedAt?.toISOString() ?? "",
            },
          );
        }
        const decidedAt = clock.now();
        const status: ReviewStatus = decision === "approve" ? "approved" : "rejected";
        await store.decideReview(tx, { transactionId, status, analystId, note, decidedAt });
        await enqueue(tx, {
          type: "fraud.review.decided",
          schema: ReviewDecidedSchema,
          message: create(ReviewDecidedSchema, {
            transactionId,
            userId: review.userId,
            decision: decision === "approve" ? ReviewDecision.APPROVE : ReviewDecision.REJECT,
            analystId,
            note,
            decidedAt: timestampFromDate(decidedAt),
          }),
        });
        await enqueue(
          tx,
          auditEvent(origin, {
            subjectType: "review",
            subjectId: transactionId,
            before: { status: review.status },
            after: { status, note },
            occurredAt: decidedAt,
          }),
        );
        return { ...review, status, analystId, note, decidedAt };
      });
    },

    async getRules(): Promise<StoredRuleVersion> {
      return (await rules.current()).stored;
    },

    /** See RuleBook.update. */
    async updateRules(
      patch: RulePatch,
      changedBy: string,
      note: string,
      expectedVersion: number | undefined,
      origin: AuditOrigin,
    ): Promise<StoredRuleVersion> {
      return rules.update(patch, changedBy, note, expectedVersion, origin);
    },

    /** Every rule version, newest first. */
    async ruleVersions(limit: number, cursor?: string): Promise<Page<StoredRuleVersion>> {
      await rules.current(); // version 1 exists once anything has been read
      const rows = await store.ruleVersions(pool, {
        limit: limit + 1,
        before: cursor === undefined ? undefined : versionCursor.decode(cursor).version,
      });
      const { items, nextPageToken } = takePage(rows, limit, (last) => versionCursor.encode(last));
      return { data: items, nextCursor: nextPageToken };
    },

    /** Statistics of scores and review cases in [from, to). */
    async stats(from: Date, to: Date) {
      await answeredWritten();
      return store.stats(pool, from, to);
    },

    /** Resolves once every score taken so far is written, or given up on (graceful stop). */
    async flushed(): Promise<void> {
      await answeredWritten();
      await writer.idle();
    },

    /** Deletes feature rows past their retention; run periodically. @returns rows deleted. */
    async prune(): Promise<number> {
      const now = clock.now().getTime();
      return features.prune(
        pool,
        new Date(now - settings.transactionRetentionMs),
        new Date(now - (MAX_LOOKBACK_DAYS + 1) * DAY_MS),
      );
    },
  };
}

export type FraudService = ReturnType<typeof createFraudService>;

/** Review cases are listed oldest first: the position is the last case's creation time and transaction id. */
const reviewCursor = pageCursor({ createdAt: cursorParts.time, transactionId: cursorParts.text(128) });
/** Rule versions are listed newest first: the position is the last version shown. */
const versionCursor = pageCursor({ version: cursorParts.int });
