import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import { isSerializationFailure, isStalePreparedStatement } from "./pg-errors.js";
import type { Queryable } from "./queryable.js";

/** Transaction isolation levels accepted by {@link withTransaction}. */
export type IsolationLevel = "read committed" | "repeatable read" | "serializable";

/** Options for {@link withTransaction}. */
export interface TransactionOptions {
  /** Isolation level for `BEGIN`. Default: the server default (read committed). */
  isolation?: IsolationLevel | undefined;
  /**
   * How many times the whole function is re-run after a serialization failure (40001), a deadlock (40P01) or a
   * prepared statement a migration made stale (isStalePreparedStatement). Default 5, so at most 6 attempts.
   */
  maxRetries?: number;
  /**
   * A first statement (or several, `;`-separated) to send in one message with BEGIN, saving a round trip: a
   * simple query, so no parameters (every value in it must be safe to write into SQL). Its (last statement's)
   * result is `fn`'s second argument.
   */
  opening?: string | undefined;
}

/** The option of {@link withTransaction} that depends on what its function returns. */
export interface TransactionClosing<T> {
  /**
   * A last statement, made from the function's result, to send in one message with COMMIT (undefined: COMMIT
   * alone); a simple query too, so no parameters.
   */
  closing?: ((result: T) => string | undefined) | undefined;
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

/** What to run after the COMMIT of the transaction a client is in ({@link afterCommit}), by client. */
const committing = new WeakMap<Queryable, { pool: pg.Pool; then: Set<(pool: pg.Pool) => void> }>();

/**
 * Runs `then(pool)` once what was just written through `db` has committed: after the COMMIT when `db` is the
 * client of a {@link withTransaction} (never, if that attempt rolls back), at once when `db` is a pool (its
 * statement committed on its own). On a client checked out by other means nothing runs, since its commit is not
 * seen here. The same function registered twice in one transaction runs once; it runs in a microtask, so what
 * it throws is not the transaction's failure.
 */
export function afterCommit(db: Queryable, then: (pool: pg.Pool) => void): void {
  const open = committing.get(db);
  if (open !== undefined) open.then.add(then);
  else if (!("release" in db) && "connect" in db) then(db as pg.Pool);
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
  opts: TransactionOptions & TransactionClosing<T> = {},
): Promise<T> {
  return wrapper === undefined
    ? runTransaction(pool, fn, opts)
    : wrapper(() => runTransaction(pool, fn, opts));
}

async function runTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient, opened?: pg.QueryResult) => Promise<T>,
  opts: TransactionOptions & TransactionClosing<T>,
): Promise<T> {
  const maxRetries = opts.maxRetries ?? 5;
  for (let attempt = 0; ; attempt++) {
    try {
      return await attemptOnce(pool, fn, opts);
    } catch (error) {
      const retryable = isSerializationFailure(error) || isStalePreparedStatement(error);
      if (attempt >= maxRetries || !retryable) throw error;
    }
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt);
    await sleep(Math.random() * ceiling);
  }
}

async function attemptOnce<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient, opened?: pg.QueryResult) => Promise<T>,
  opts: TransactionOptions & TransactionClosing<T>,
): Promise<T> {
  const begin = opts.isolation === undefined ? "BEGIN" : BEGIN[opts.isolation];
  const client = await pool.connect();
  // A checked-out client has no pool error listener: an 'error' event between queries would crash the process.
  let broken: Error | undefined;
  const onClientError = (error: Error) => {
    broken ??= error;
  };
  client.on("error", onClientError);
  const then = new Set<(pool: pg.Pool) => void>();
  committing.set(client, { pool, then });
  try {
    let result: T;
    if (opts.opening === undefined) {
      await client.query(begin);
      result = await fn(client);
    } else {
      // BEGIN and the opening's statements answer as an array of results; the opening's is its last one's.
      const started = (await client.query(`${begin}; ${opts.opening}`)) as unknown as pg.QueryResult[];
      result = await fn(client, started.at(-1));
    }
    const last = opts.closing?.(result);
    await client.query(last === undefined ? "COMMIT" : `${last}; COMMIT`);
    for (const committed of then) queueMicrotask(() => committed(pool));
    return result;
  } catch (error) {
    try {
      await client.query("ROLLBACK");
    } catch (rollbackError) {
      // The caller gets the original error; the rollback failure only tells us the connection is unusable.
      broken ??= rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    }
    throw error;
  } finally {
    committing.delete(client);
    client.removeListener("error", onClientError);
    // release(error) makes the pool destroy the connection instead of reusing it.
    client.release(broken);
  }
}
