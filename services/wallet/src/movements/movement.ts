import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import type { UserPrincipal } from "@fintech/auth";
import type { Queryable } from "@fintech/db";
import type { Transaction, User } from "../model.js";
import type { DraftFields, Kit } from "./kit.js";

// What a money movement is to the pipeline (pipeline.ts). A movement declares only what is its own: who may
// ask for it, its checks, the transaction(s) it creates with their ledger legs, and any event of its own; the
// pipeline does what every movement does the same way (the Idempotency-Key, recording, driving, answers).

/** One kind of money movement, as its RPC (request message `I`) asks for it. */
export interface Movement<I extends DescMessage> {
  /** "user": the caller moves their own money; "admin": an admin moves (or gives back) a user's. */
  caller: "user" | "admin";
  /**
   * Claims the call's Idempotency-Key in the statement that records its transaction, not in one of its own
   * before planning: one commit fewer, for the hot path. A repeat under a taken key then plans again before
   * it finds the key, so only for a movement whose plan is always a new transaction and has no effect
   * outside the wallet (no quote).
   */
  claimKeyWithRecord?: boolean;
  /** Checks the request and says what to do; throws a WalletError to refuse it. Nothing is written yet. */
  plan(req: MessageShape<I>, call: Call): Promise<Plan>;
}

/** What the pipeline gives a movement for one call. */
export interface Call extends Kit {
  principal: UserPrincipal;
  /** The id of the transaction the call creates: the one its Idempotency-Key is bound to, else a new one. */
  transactionId: string;
  /** The call's own transaction, pending, under `transactionId`: the one the call answers and drives. */
  draft(user: User, fields: DraftFields): Transaction;
  /** Another transaction recorded with the call's own (the receiving side of a transfer), under a new id. */
  draftRelated(user: User, fields: DraftFields): Transaction;
}

/** New transactions, the call's own first, all with their created events in one statement. */
export interface Create {
  kind: "create";
  rows: readonly [Transaction, ...Transaction[]];
}

/**
 * New transactions that depend on the state of an existing one (a refund on its purchase): planned while that
 * one is locked, in the database transaction that records them, so concurrent calls see each other's effect.
 */
export interface CreateUnderLock {
  kind: "create-under-lock";
  /** The transaction to lock; NOT_FOUND when it is gone. */
  lock: string;
  plan(locked: Transaction, db: Queryable): Promise<LockedPlan>;
}

export interface LockedPlan {
  rows: readonly [Transaction, ...Transaction[]];
  /** What else the movement changes in the same database transaction, after its rows are recorded. */
  alongside?: (db: Queryable, now: Date) => Promise<void>;
}

/**
 * A completed transaction undone: its ledger legs mirrored, what it counted given back, reversed (both sides
 * of a transfer). Creates no transaction: the call's Idempotency-Key is bound to the one reversed.
 */
export interface Reverse {
  kind: "reverse";
  /** The transaction to reverse (a transfer's sending side), locked while it is. */
  lock: string;
  /** The transaction the call asked for and answers (either side of a transfer). */
  answer: string;
  reason: string;
  /** Refuses what may not be reversed, seen locked. */
  check(t: Transaction): void;
}

export type Plan = Create | CreateUnderLock | Reverse;
