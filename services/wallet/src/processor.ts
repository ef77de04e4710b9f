import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import { ConnectError } from "@connectrpc/connect";
import type { Queryable } from "@fintech/db";
import { withTransaction } from "@fintech/db";
import { formatAmount } from "@fintech/money";
import type { Clock } from "@fintech/platform";
import { errorInfoOf } from "@fintech/platform";
import type { FraudService } from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import { Decision } from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import type { FxService } from "@fintech/proto/fintech/fx/v1/fx_pb.js";
import type pg from "pg";
import type { Logger } from "pino";
import type { Book, Refusal } from "./book.js";
import { publishTransactions, TYPE_TO_PROTO, transactionOutboxRows } from "./events.js";
import { groupCommit } from "./group-commit.js";
import { mirror } from "./legs.js";
import type { WalletMetrics } from "./metrics.js";
import type { FraudDecision, Transaction } from "./model.js";
import { createScorer } from "./scores.js";
import type { TransactionChange, Transition } from "./store.js";
import { store } from "./store.js";

// Drives a transaction from pending to its end. Every step is idempotent, so the same code serves the
// request that created the transaction, the recovery pass that takes over an unfinished one (a crashed
// request, a hold waiting for fraud to answer), and the consumer of fraud.review.decided:
//
//   new --score--> approve --post-->  completed        (ledger refusal: failed)
//                  review  --hold-->  held --approve--> settle --> completed
//                  unscored --hold--> held --reject --> void   --> failed
//                  decline ---------> failed
//
// Ledger transfer ids derive from (transaction, leg, phase), fraud's Score answers the same for the same
// transaction id, a quote is redeemed once (a second redeem is recognised), and every state change is a
// conditional UPDATE from pending: a step repeated after a crash finds what the first run did.

export interface ProcessorSettings {
  /** Deadline of one Score call, in ms. */
  fraudTimeoutMs: number;
  /** What a transaction fraud did not score in time becomes: held ("review") or refused ("decline"). */
  unavailablePolicy: "review" | "decline";
  /** How long an unfinished transaction is left to its current driver before recovery may take it, in ms. */
  leaseMs: number;
}

interface Scored {
  decision: FraudDecision;
  score: number;
  flags: string[];
}

/** The fields of `change` that are set. */
function withoutUndefined(change: TransactionChange): Partial<Transaction> {
  return Object.fromEntries(
    Object.entries(change).filter(([, v]) => v !== undefined),
  ) as Partial<Transaction>;
}

/** Where driving a transaction got to, and the ledger's refusal when that is what failed it. */
export interface Driven {
  transaction: Transaction;
  refusal?: Refusal;
}

/** Ledger transfer codes: the transaction type's number; reversals add 100. */
const codeOf = (t: Transaction) => TYPE_TO_PROTO[t.type];
const REVERSAL_CODE_OFFSET = 100;

const DECISIONS: Partial<Record<Decision, FraudDecision>> = {
  [Decision.APPROVE]: "approve",
  [Decision.REVIEW]: "review",
  [Decision.DECLINE]: "decline",
};

export function createProcessor(deps: {
  pool: pg.Pool;
  book: Book;
  fraud: Client<typeof FraudService>;
  fx: Client<typeof FxService>;
  clock: Clock;
  logger: Logger;
  settings: ProcessorSettings;
  metrics: WalletMetrics;
}) {
  const { pool, book, fraud, fx, clock, logger, settings, metrics } = deps;
  // Concurrent one-row changes (completions and holds, with their events) share one statement.
  const transitions = groupCommit({
    statement: (items: readonly Transition[]) => store.transitionMany(pool, items),
    keysOf: (t) => [t.id],
  });

  // Concurrent payments' scores share calls too.
  const askFraud = createScorer(fraud, settings.fraudTimeoutMs);

  /** Fraud's verdict, or undefined when it did not answer in time (or failed). */
  async function score(t: Transaction): Promise<Scored | undefined> {
    try {
      const res = await askFraud({
        transactionId: t.id,
        userId: t.userId,
        type: TYPE_TO_PROTO[t.type],
        amount: { currency: t.currency, amount: formatAmount(t.amount, t.currency) },
        baseAmount: { currency: t.baseCurrency, amount: formatAmount(t.baseAmount, t.baseCurrency) },
        merchantName: t.merchantName,
        merchantCategory: t.merchantCategory,
        timezone: t.timezone,
        occurredAt: timestampFromDate(t.createdAt),
      });
      const decision = DECISIONS[res.decision];
      if (decision === undefined) {
        logger.warn({ transaction_id: t.id, decision: res.decision }, "fraud answered without a decision");
        return undefined;
      }
      return { decision, score: res.score, flags: res.flags.map((f) => f.rule) };
    } catch (err) {
      metrics.fraudUnavailable.inc();
      logger.warn({ err, transaction_id: t.id }, "fraud did not score the transaction");
      return undefined;
    }
  }

  const fraudChange = (s: Scored): TransactionChange => ({
    fraudDecision: s.decision,
    fraudScore: s.score,
    fraudFlags: s.flags,
  });

  /** Marks it completed (both sides of a transfer) and publishes it; returns the row as it is now. */
  async function complete(t: Transaction, change: TransactionChange = {}): Promise<Transaction> {
    const now = clock.now();
    const done: TransactionChange = { ...change, status: "completed", stage: "done", leaseUntil: null };
    if (t.type !== "transfer") {
      // One row: the change and its event in one statement, shared with concurrent completions (the hot
      // path of every payment).
      const after: Transaction = { ...t, ...withoutUndefined(done), updatedAt: now } as Transaction;
      const events = transactionOutboxRows("completed", [after], now);
      const row = await transitions.submit({
        id: t.id,
        from: ["pending"],
        change: done,
        at: now,
        events,
      });
      if (row !== undefined) metrics.outcomes.inc({ type: t.type, outcome: "completed" });
      return row ?? (await store.getTransaction(pool, t.id)) ?? t;
    }
    return withTransaction(pool, async (tx) => {
      const rows = await store.transition(
        tx,
        t.id,
        ["pending"],
        { ...change, status: "completed", stage: "done", leaseUntil: null },
        now,
        { bothSides: t.type === "transfer" },
      );
      if (rows.length === 0) return (await store.getTransaction(tx, t.id)) ?? t;
      await publishTransactions(tx, "completed", rows, now);
      metrics.outcomes.inc({ type: t.type, outcome: "completed" });
      return rows[0] ?? t;
    });
  }

  /**
   * Marks it failed with `reason`, gives back what it counted (daily spending, a refund's share of its
   * purchase) and publishes it.
   */
  async function fail(t: Transaction, reason: string, change: TransactionChange = {}): Promise<Transaction> {
    const now = clock.now();
    return withTransaction(pool, async (tx) => {
      const rows = await store.transition(
        tx,
        t.id,
        ["pending"],
        { ...change, status: "failed", stage: "done", leaseUntil: null, failureReason: reason },
        now,
        { bothSides: t.type === "transfer" },
      );
      const failed = rows[0];
      if (failed === undefined) return (await store.getTransaction(tx, t.id)) ?? t;
      await giveBack(tx, failed, now);
      await publishTransactions(tx, "failed", rows, now);
      metrics.outcomes.inc({ type: t.type, outcome: "failed" });
      return failed;
    });
  }

  async function hold(t: Transaction, change: TransactionChange): Promise<Transaction> {
    const now = clock.now();
    const waiting = change.fraudDecision === "unscored";
    const held: TransactionChange = {
      ...change,
      stage: "held",
      leaseUntil: waiting ? new Date(now.getTime() + settings.leaseMs) : null,
    };
    // The sending side only, shared with concurrent changes: a transfer's other side keeps its stage.
    const row = await transitions.submit({
      id: t.id,
      from: ["pending"],
      change: held,
      at: now,
      events: [],
    });
    if (row !== undefined && t.stage === "new") metrics.outcomes.inc({ type: t.type, outcome: "held" });
    return row ?? (await store.getTransaction(pool, t.id)) ?? t;
  }

  /** The failure reason of a ledger refusal as the transaction shows it. */
  const refusalReason = (r: Refusal) =>
    r.reason === "INSUFFICIENT_FUNDS" ? "INSUFFICIENT_BALANCE" : r.reason;

  /** Uses the transaction's quote; false when it can no longer be used (expired). */
  async function redeem(t: Transaction): Promise<boolean> {
    if (t.quoteId === null) return true;
    try {
      await fx.redeemQuote({ quoteId: t.quoteId });
      return true;
    } catch (err) {
      const reason = err instanceof ConnectError ? errorInfoOf(err)?.reason : undefined;
      // Redeemed already: by this transaction's earlier run (a quote is never shared).
      if (reason === "QUOTE_ALREADY_REDEEMED") return true;
      if (reason === "QUOTE_EXPIRED" || reason === "QUOTE_NOT_FOUND") return false;
      throw err;
    }
  }

  /** From stage new: score, then post, hold or refuse. */
  async function start(t: Transaction): Promise<Driven> {
    let scored: Scored = { decision: "approve", score: 0, flags: [] };
    if (t.needsScore) {
      const s = await score(t);
      scored = s ?? {
        decision: settings.unavailablePolicy === "review" ? "unscored" : "decline",
        score: 0,
        flags: [],
      };
      if (s === undefined && settings.unavailablePolicy === "decline") {
        return {
          transaction: await fail(t, "FRAUD_UNAVAILABLE", fraudChange({ ...scored, decision: "unscored" })),
        };
      }
    }
    const change = t.needsScore ? fraudChange(scored) : {};
    if (scored.decision === "decline") return { transaction: await fail(t, "TRANSACTION_DECLINED", change) };
    if (!(await redeem(t))) return { transaction: await fail(t, "QUOTE_EXPIRED", change) };
    const held = scored.decision !== "approve";
    const outcome = await book.apply(t.id, t.legs, held ? "hold" : "post", codeOf(t));
    if (!outcome.ok) {
      return { transaction: await fail(t, refusalReason(outcome.refusal), change), refusal: outcome.refusal };
    }
    return { transaction: held ? await hold(t, change) : await complete(t, change) };
  }

  /** Posts the held funds. */
  async function settle(t: Transaction, change: TransactionChange = {}): Promise<Transaction> {
    const outcome = await book.apply(t.id, t.legs, "settle", codeOf(t));
    if (!outcome.ok) return fail(t, refusalReason(outcome.refusal), change);
    return complete(t, change);
  }

  /** Releases the held funds and fails the transaction. */
  async function release(
    t: Transaction,
    reason: string,
    change: TransactionChange = {},
  ): Promise<Transaction> {
    const outcome = await book.apply(t.id, t.legs, "void", codeOf(t));
    if (!outcome.ok && outcome.refusal.reason !== "PENDING_ALREADY_RESOLVED") {
      // Expired (the ledger voided it) or already voided: the money is released either way.
      logger.warn({ transaction_id: t.id, refusal: outcome.refusal }, "void of a hold refused");
    }
    return fail(t, reason, change);
  }

  /** A hold fraud has not scored yet: ask again. */
  async function rescore(t: Transaction): Promise<Transaction> {
    const s = await score(t);
    if (s === undefined) {
      const rows = await store.transition(
        pool,
        t.id,
        ["pending"],
        { leaseUntil: new Date(clock.now().getTime() + settings.leaseMs) },
        clock.now(),
      );
      return rows[0] ?? t;
    }
    if (s.decision === "approve") return settle(t, fraudChange(s));
    if (s.decision === "decline") return release(t, "TRANSACTION_DECLINED", fraudChange(s));
    // Review: an analyst decides now (fraud.review.decided).
    return hold(t, fraudChange(s));
  }

  return {
    /**
     * Drives a pending transaction as far as it can go now and returns it as it is then. Throws when a
     * backend fails; the transaction stays pending and the recovery pass drives it again later.
     */
    async drive(t: Transaction): Promise<Driven> {
      if (t.status !== "pending") return { transaction: t };
      if (t.stage === "new") return start(t);
      if (t.stage === "held" && t.fraudDecision === "unscored") return { transaction: await rescore(t) };
      return { transaction: t };
    },

    /**
     * Takes over an unfinished transaction (its lease ran out): whatever its last driver did in the ledger
     * is found again before going on.
     */
    async recover(id: string): Promise<Transaction | undefined> {
      const t = await store.getTransaction(pool, id);
      if (t === undefined || t.status !== "pending") return t;
      metrics.recovered.inc();
      if (t.stage === "new" && t.needsScore) {
        const held = await book.holdStatus(t.id);
        if (held === "posted") return complete(t);
        if (held === "voided") return fail(t, "HOLD_RELEASED");
        if (held === "pending") {
          // Held but not recorded: the hold's decision is fraud's recorded one, asked again.
          return rescore({ ...t, stage: "held", fraudDecision: "unscored" });
        }
      }
      return (await this.drive(t)).transaction;
    },

    /** An analyst's decision on a held transaction (fraud.review.decided). */
    async decide(id: string, approve: boolean): Promise<Transaction | undefined> {
      const t = await store.getTransaction(pool, id);
      if (t === undefined || t.status !== "pending") return t;
      if (t.stage !== "held") {
        // The hold is not recorded yet (its request is still running): the event is retried later.
        throw new Error(`transaction ${id} is not held yet`);
      }
      return approve ? settle(t) : release(t, "REVIEW_REJECTED");
    },

    /**
     * Mirrors a completed transaction's legs in the ledger (reversal). Returns the refusal when the ledger
     * refuses (e.g. the receiver spent the money).
     */
    async reverse(t: Transaction): Promise<Refusal | undefined> {
      const outcome = await book.apply(t.id, mirror(t.legs), "reverse", codeOf(t) + REVERSAL_CODE_OFFSET);
      return outcome.ok ? undefined : outcome.refusal;
    },
  };
}

export type Processor = ReturnType<typeof createProcessor>;

/**
 * Gives back what transaction `t` counted, now that it failed or was reversed (in the open database
 * transaction `db`): its share of the user's daily spending, and a refund's amount on its purchase (published
 * as wallet.transaction.refunded).
 */
export async function giveBack(db: Queryable, t: Transaction, at: Date): Promise<void> {
  if (t.limitDay !== null) await store.releaseSpending(db, t.userId, t.limitDay, t.baseAmount);
  if (t.type === "refund" && t.originalTransactionId !== null) {
    const original = await store.addRefunded(db, t.originalTransactionId, -t.amount, at);
    if (original !== undefined) await publishTransactions(db, "refunded", [original], at);
  }
}
