import type { DescMessage, DescMethodUnary, Message, MessageShape } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import type { GenMessage } from "@bufbuild/protobuf/codegenv2";
import type { HandlerContext } from "@connectrpc/connect";
import type { AuditOrigin, UserPrincipal } from "@fintech/auth";
import { auditEvent, auditOrigin, requireAdmin, requireUser } from "@fintech/auth";
import type { Queryable } from "@fintech/db";
import { withTransaction } from "@fintech/db";
import { enqueue } from "@fintech/events";
import { formatAmount } from "@fintech/money";
import type { Transaction as TransactionMessage } from "@fintech/proto/fintech/wallet/v1/wallet_pb.js";
import { WalletError } from "../errors.js";
import {
  auditedTransaction,
  creationAuditRow,
  publishTransactions,
  transactionOutboxRows,
} from "../events.js";
import { groupCommit } from "../group-commit.js";
import type { Idempotency, KeyBinding, PendingClaim } from "../idempotency.js";
import { KeyTaken } from "../idempotency.js";
import { newId } from "../ids.js";
import { transactionMessage } from "../messages.js";
import type { Transaction } from "../model.js";
import type { Driven, Processor } from "../processor.js";
import { giveBack } from "../processor.js";
import type { Recording } from "../store.js";
import { store } from "../store.js";
import type { KitDeps } from "./kit.js";
import { createKit, draftTransaction } from "./kit.js";
import type { Call, CreateUnderLock, Movement, Reverse } from "./movement.js";

// What every money movement does the same way, around what a movement module (movements/*.ts) declares:
//
//   RPC (validated by validation.ts) -> caller -> Idempotency-Key taken, bound to the transaction id
//     -> the module's checks and plan -> recorded: transaction(s) + created events (+ daily spending), one
//     statement -> driven by the processor (fraud score where it applies, ledger post or hold)
//     -> the answer: the transaction, or the refusal that failed it (kept under the key for replays)
//
// A retry under the same key creates its transaction under the same id, so the transactions primary key lets
// it be recorded once; an attempt that finds it recorded answers it, driving it on when its driver is gone.

/** What every money-moving RPC answers: the transaction. */
type TransactionAnswer = Message & { transaction?: TransactionMessage | undefined };

export interface PipelineDeps extends KitDeps {
  processor: Processor;
  idempotency: Idempotency;
}

export function createPipeline(deps: PipelineDeps) {
  const { pool, processor, idempotency, clock, logger, settings } = deps;
  // Concurrent calls' recording steps share one statement. Two calls of one statement may not count on the
  // same user's day nor claim the same key (store.record).
  const recordings = groupCommit({
    statement: (calls: readonly Recording[]) => store.record(pool, calls),
    keysOf: (c) => [
      ...(c.spend === undefined ? [] : [`spend\u0000${c.spend.userId}\u0000${c.spend.day}`]),
      ...(c.claim === undefined ? [] : [`key\u0000${c.claim.principal}\u0000${c.claim.key}`]),
    ],
  });
  const kit = createKit(deps);
  const base = settings.baseCurrency;

  function callOf(principal: UserPrincipal, transactionId: string): Call {
    return {
      ...kit,
      principal,
      transactionId,
      draft: (user, fields) => draftTransaction(transactionId, user, fields, clock.now(), settings),
      draftRelated: (user, fields) => {
        const now = clock.now();
        return draftTransaction(newId(now.getTime()), user, fields, now, settings);
      },
    };
  }

  /**
   * The recording step, the one place new transactions are written: the rows, their created events and (when
   * one counts towards the daily limit) its spending, in one statement, so that LIMIT_EXCEEDED leaves nothing
   * behind; with `claim`, the call's Idempotency-Key too (KeyTaken, nothing written, when it is taken). On
   * the pool, concurrent calls share the statement (group commit); inside a database transaction (`db`, a
   * call recording under a lock) it is the call's own.
   */
  async function record(
    db: Queryable | "shared",
    origin: AuditOrigin,
    rows: readonly [Transaction, ...Transaction[]],
    claim?: PendingClaim,
  ): Promise<void> {
    const limited = rows.find((r) => r.limitDay !== null);
    // The call's audit entry is about its own transaction (the first), written with it.
    const events = [
      ...transactionOutboxRows("created", rows, rows[0].createdAt),
      creationAuditRow(origin, rows[0]),
    ];
    const spend =
      limited?.limitDay == null
        ? undefined
        : {
            userId: limited.userId,
            day: limited.limitDay,
            amount: limited.baseAmount,
            limit: settings.dailyLimit,
          };
    const call = { rows, events, spend, claim: claim?.row };
    const recorded = db === "shared" ? await recordings.submit(call) : (await store.record(db, [call]))[0];
    if (recorded?.kind === "key-taken") throw new KeyTaken();
    claim?.claimed();
    if (recorded?.kind === "over-limit" && spend !== undefined) {
      throw new WalletError(
        "LIMIT_EXCEEDED",
        `the daily limit of ${formatAmount(settings.dailyLimit, base)} ${base} would be exceeded`,
        {
          kind: "daily",
          limit: formatAmount(settings.dailyLimit, base),
          used: formatAmount(recorded.used, base),
          requested: formatAmount(spend.amount, base),
          currency: base,
          day: spend.day,
        },
      );
    }
  }

  /** Locks transaction `id` in the open database transaction `db`. */
  async function lock(db: Queryable, id: string): Promise<Transaction> {
    const t = await store.getTransaction(db, id, { forUpdate: true });
    if (t === undefined) throw new WalletError("NOT_FOUND", `transaction ${id} not found`);
    return t;
  }

  /** Records what a movement plans with another transaction locked (a refund and its purchase). */
  async function recordUnderLock(
    plan: CreateUnderLock,
    transactionId: string,
    origin: AuditOrigin,
  ): Promise<Transaction> {
    return withTransaction(pool, async (tx) => {
      const { rows, alongside } = await plan.plan(await lock(tx, plan.lock), tx);
      const [own] = rows;
      ownId(own, transactionId);
      await record(tx, origin, rows);
      await alongside?.(tx, clock.now());
      return own;
    });
  }

  /** Mirrors a completed transaction's legs in the ledger and marks it (both sides of a transfer) reversed. */
  async function reverse(
    plan: Reverse,
    binding: KeyBinding | undefined,
    origin: AuditOrigin,
  ): Promise<Transaction> {
    const now = clock.now();
    const { rows, first } = await withTransaction(pool, async (tx) => {
      const t = await lock(tx, plan.lock);
      plan.check(t);
      const refusal = await processor.reverse(t);
      if (refusal !== undefined) {
        if (refusal.reason === "INSUFFICIENT_FUNDS") {
          throw new WalletError("INSUFFICIENT_BALANCE", "a wallet no longer holds the money to give back", {
            transaction_id: t.id,
            wallet_id: refusal.details.account_id ?? "",
            available: refusal.details.available ?? "",
            requested: refusal.details.requested ?? "",
          });
        }
        throw new WalletError("CONFLICT", `the ledger refused the reversal: ${refusal.message}`, {
          ledger_reason: refusal.reason,
        });
      }
      const reversed = await store.transition(
        tx,
        t.id,
        ["completed"],
        { status: "reversed", reason: plan.reason },
        now,
        { bothSides: t.type === "transfer" },
      );
      const [head] = reversed;
      if (head === undefined) throw new WalletError("CONFLICT", "the transaction changed meanwhile");
      await giveBack(tx, head, now);
      await publishTransactions(tx, "reversed", reversed, now);
      await enqueue(
        tx,
        auditEvent(origin, {
          subjectType: "transaction",
          subjectId: t.id,
          before: auditedTransaction(t),
          after: auditedTransaction(head),
          occurredAt: now,
        }),
      );
      // A reversal creates no transaction: its key is bound to the one it reversed, in this same database
      // transaction, so a retry answers that one instead of being refused as "already reversed".
      await binding?.bindTo(tx, plan.answer);
      return { rows: reversed, first: head };
    });
    return rows.find((r) => r.id === plan.answer) ?? first;
  }

  /** A movement's own transaction must carry the call's id: that is what makes a retry record it once. */
  function ownId(t: Transaction, transactionId: string): void {
    if (t.id !== transactionId) throw new Error(`movement planned transaction ${t.id} as ${transactionId}`);
  }

  /**
   * Drives a recorded transaction and answers for it: the transaction (completed, or pending when held or
   * left to the recovery pass), or the refusal that failed it.
   */
  async function finish(t: Transaction): Promise<Transaction> {
    let result: Driven;
    try {
      result = await processor.drive(t);
    } catch (err) {
      logger.warn({ err, transaction_id: t.id }, "transaction left pending for the recovery pass");
      return (await store.getTransaction(pool, t.id)) ?? t;
    }
    return answer(result);
  }

  /** The answer for a transaction as driving left it: itself, or the refusal that failed it. */
  function answer({ transaction: done, refusal }: Driven): Transaction {
    if (done.status !== "failed") return done;
    if (done.failureReason === "INSUFFICIENT_BALANCE") {
      throw new WalletError("INSUFFICIENT_BALANCE", "the wallet's available balance is too low", {
        transaction_id: done.id,
        wallet_id: refusal?.details.account_id ?? done.walletId,
        available: refusal?.details.available ?? "",
        requested: refusal?.details.requested ?? formatAmount(done.chargedAmount, done.chargedCurrency),
        currency: done.chargedCurrency,
      });
    }
    if (done.failureReason === "TRANSACTION_DECLINED" || done.failureReason === "FRAUD_UNAVAILABLE") {
      throw new WalletError("TRANSACTION_DECLINED", "the transaction was declined", {
        transaction_id: done.id,
        fraud_score: String(done.fraudScore),
        fraud_flags: done.fraudFlags.join(","),
        failure_reason: done.failureReason,
      });
    }
    if (done.failureReason === "QUOTE_EXPIRED") {
      throw new WalletError("CONFLICT", "the exchange rate quote expired; try again", {
        transaction_id: done.id,
      });
    }
    return done;
  }

  /**
   * The answer for transaction `id`, created (or reversed) by an earlier attempt under the same
   * Idempotency-Key, or undefined when there is none (that attempt recorded nothing). A pending one whose
   * driver is gone (its lease ran out) is driven on, as the recovery pass would; it is never recorded again.
   */
  async function resume(id: string): Promise<Transaction | undefined> {
    const t = await store.getTransaction(pool, id);
    if (t === undefined) return undefined;
    if (t.status !== "pending" || !(await store.claimOne(pool, id, clock.now(), settings.leaseMs))) {
      return answer({ transaction: t });
    }
    let driven: Transaction;
    try {
      driven = (await processor.recover(id)) ?? t;
    } catch (err) {
      logger.warn({ err, transaction_id: id }, "transaction left pending for the recovery pass");
      driven = (await store.getTransaction(pool, id)) ?? t;
    }
    return answer({ transaction: driven });
  }

  /**
   * Runs `movement` for `principal` (under the key's `binding`, when the request has a key); what it records
   * carries the audit entry of the call (`origin`).
   */
  async function run<I extends DescMessage>(
    movement: Movement<I>,
    principal: UserPrincipal,
    origin: AuditOrigin,
    req: MessageShape<I>,
    binding?: KeyBinding,
  ): Promise<Transaction> {
    const transactionId = binding?.transactionId ?? newId(clock.now().getTime());
    const plan = await movement.plan(req, callOf(principal, transactionId));
    // A key still to claim is claimed by the recording statement, which only a new transaction has.
    if (binding?.claim !== undefined && plan.kind !== "create") throw new KeyTaken();
    switch (plan.kind) {
      case "create": {
        const [own] = plan.rows;
        ownId(own, transactionId);
        await record("shared", origin, plan.rows, binding?.claim);
        return finish(own);
      }
      case "create-under-lock":
        return finish(await recordUnderLock(plan, transactionId, origin));
      case "reverse":
        return reverse(plan, binding, origin);
    }
  }

  return {
    /**
     * The RPC handler of `movement`: the caller must be a user (or an admin, for an admin's movement); the
     * answer is `{ transaction }`, under the request's Idempotency-Key when it has one.
     */
    handler<I extends DescMessage, O extends TransactionAnswer>(
      method: DescMethodUnary<I, GenMessage<O>>,
      movement: Movement<I>,
    ): (req: MessageShape<I>, ctx: HandlerContext) => Promise<O> {
      const reply = (t: Transaction): O => {
        const out = create(method.output);
        out.transaction = transactionMessage(t);
        return out;
      };
      return async (req, ctx) => {
        const p = movement.caller === "admin" ? requireAdmin(ctx) : requireUser(ctx);
        const origin = auditOrigin(ctx);
        return idempotency.handle(
          ctx,
          p,
          method,
          req,
          async (binding) => reply(await run(movement, p, origin, req, binding)),
          async (transactionId) => {
            const t = await resume(transactionId);
            return t === undefined ? undefined : reply(t);
          },
          { claimWithRecord: movement.claimKeyWithRecord === true },
        );
      };
    },
  };
}

export type Pipeline = ReturnType<typeof createPipeline>;
