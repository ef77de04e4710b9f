import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import { isSerializationFailure } from "./pg-errors.js";
import { withClient } from "./with-client.js";

/** Transaction isolation levels accepted by {@link withTransaction}. */
export type IsolationLevel = "read committed" | "repeatable read" | "serializable";

/** Options for {@link withTransaction}. */
export interface TransactionOptions {
  /** Isolation level for `BEGIN`. Default: the server default (read committed). */
  isolation?: IsolationLevel | undefined;
  /**
   * How many times the whole function is re-run after a serialization failure (40001) or deadlock (40P01).
   * Default 5, so at most 6 attempts.
   */
  maxRetries?: number;
  /**
   * A first statement to send in one message with BEGIN, saving a round trip: a simple query, so no
   * parameters (every value in it must be safe to write into SQL). Its result is `fn`'s second argument.
   */
  opening?: string | undefined;
}

const BEGIN: Record<IsolationLevel, string> = {
  "read committed": "BEGIN ISOLATION LEVEL READ COMMITTED",
  "repeatable read": "BEGIN ISOLATION LEVEL REPEATABLE READ",
  serializable: "BEGIN ISOLATION LEVEL SERIALIZABLE",
};

/** First backoff ceiling in ms; it doubles per retry up to {@link BACKOFF_MAX_MS}. */
const BACKOFF_BASE_MS = 5;
const BACKOFF_MAX_MS = 500;

/** Wraps one {@link withTransaction} call, every attempt included (a tracer making it a span). */
export type TransactionWrapper = <T>(run: () => Promise<T>) => Promise<T>;

let wrapper: TransactionWrapper | undefined;

/**
 * Installs (or with undefined removes) the process-wide wrapper of every {@link withTransaction} call; libs/platform's
 * startTelemetry installs one that makes each transaction a span of the trace it runs in.
 */
export function traceTransactions(wrap: TransactionWrapper | undefined): void {
  wrapper = wrap;
}

/**
 * Runs `fn` inside a transaction on one pooled connection: BEGIN, `fn(client)`, COMMIT; ROLLBACK if anything
 * throws. When the failure is a serialization failure (40001) or deadlock (40P01) — including one raised by
 * COMMIT — the whole function runs again on a fresh transaction after a jittered exponential backoff (full
 * jitter, 5 ms doubling per retry, capped at 500 ms), so `fn` must not have side effects outside the database.
 *
 * The error that ends the call is rethrown as is (same object, SQLSTATE and `cause` intact). The connection goes
 * back to the pool, or is destroyed when it broke (ROLLBACK failed or the client emitted `error`).
 *
 * Defaults: server isolation level, `maxRetries` 5.
 */
export function withTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient, opened?: pg.QueryResult) => Promise<T>,
  opts: TransactionOptions = {},
): Promise<T> {
  return wrapper === undefined
    ? runTransaction(pool, fn, opts)
    : wrapper(() => runTransaction(pool, fn, opts));
}

async function runTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient, opened?: pg.QueryResult) => Promise<T>,
  opts: TransactionOptions,
): Promise<T> {
  const maxRetries = opts.maxRetries ?? 5;
  const begin = opts.isolation === undefined ? "BEGIN" : BEGIN[opts.isolation];
  const opening = opts.opening === undefined ? begin : `${begin}; ${opts.opening}`;
  for (let attempt = 0; ; attempt++) {
    try {
      return await attemptOnce(pool, fn, opening, opts.opening !== undefined);
    } catch (error) {
      if (attempt >= maxRetries || !isSerializationFailure(error)) throw error;
    }
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt);
    await sleep(Math.random() * ceiling);
  }
}

async function attemptOnce<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient, opened?: pg.QueryResult) => Promise<T>,
  begin: string,
  withOpening: boolean,
): Promise<T> {
  return withClient(pool, async (client, broke) => {
    try {
      const started = await client.query(begin);
      // BEGIN and the opening statement answer as an array of two results.
      const result = withOpening
        ? await fn(client, (started as unknown as pg.QueryResult[])[1])
        : await fn(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await rollback(client, broke);
      throw error;
    }
  });
}

/**
 * Rolls back the transaction open on `client`; a failure only tells that the connection is unusable, and is
 * reported to `broke` (the caller's original error is what it throws).
 */
export async function rollback(client: pg.PoolClient, broke: (error: Error) => void): Promise<void> {
  try {
    await client.query("ROLLBACK");
  } catch (rollbackError) {
    broke(rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError)));
  }
}
