import type pg from "pg";
import { advisoryKey } from "./advisory-key.js";

/** What {@link withAdvisoryLock} hands the work it runs under the lock. */
export interface HeldLock {
  /**
   * Aborted when the lock's connection is lost or stops answering: Postgres releases the lock with the session,
   * so another replica may take it from then on, and the work stops at its next step.
   */
  signal: AbortSignal;
}

/** What {@link withAdvisoryLock} did: ran the work (with its value), or found the lock held elsewhere. */
export type LockOutcome<T> = { acquired: true; value: T } | { acquired: false };

/** Milliseconds between pings of the lock's connection while the work runs; a ping unanswered by the next is a loss. */
const PING_MS = 5_000;

/**
 * Postgres ends the lock's session once it has been idle this long, which frees the lock of a holder that vanished
 * without closing its connection (a network partition, a frozen host); the pings keep a live holder's session
 * busy well within it, and a holder that cannot ping gives up (signal) before Postgres lets the lock go.
 */
const IDLE_SESSION_TIMEOUT = "30s";

/**
 * Runs `fn` while this process holds the session-level advisory lock `name` (one per schema: the pool's
 * search_path), on a connection of its own checked out of `pool` for the duration (so the pool needs room for it
 * besides what `fn` uses). When another session holds the lock it returns `{ acquired: false }` at once, without
 * running `fn`: the lock says which replica does a job, not when.
 *
 * A holder that dies frees the lock with its connection (Postgres ends the session: at once when the process is
 * killed, within 30 s when the connection vanishes silently), and the next replica to try takes it. A holder whose
 * lock connection breaks or stops answering (pinged every 5 s) sees `signal` abort; its work should stop at the
 * next step, and be idempotent, since another replica may already be doing it.
 *
 * The lock is released when `fn` settles; an error of `fn` is rethrown after that.
 */
export async function withAdvisoryLock<T>(
  pool: pg.Pool,
  name: string,
  fn: (lock: HeldLock) => Promise<T>,
): Promise<LockOutcome<T>> {
  const client = await pool.connect();
  const lost = new AbortController();
  let broken: Error | undefined;
  // A checked-out client has no pool error listener: an 'error' event while fn runs would crash the process.
  const onError = (err: Error) => {
    broken ??= err;
    lost.abort(err);
  };
  client.on("error", onError);
  let locked = false;
  try {
    const { rows } = await client.query<{ locked: boolean }>(
      `SELECT pg_try_advisory_lock(${advisoryKey("$1")}) AS locked`,
      [name],
    );
    locked = rows[0]?.locked === true;
    if (!locked) return { acquired: false };
    await client.query(`SET idle_session_timeout = '${IDLE_SESSION_TIMEOUT}'`);
    let pinging = false;
    const ping = setInterval(() => {
      if (pinging) {
        onError(new Error(`the connection holding advisory lock ${name} stopped answering`));
        return;
      }
      pinging = true;
      client.query("SELECT 1").then(
        () => {
          pinging = false;
        },
        (err: unknown) => onError(err instanceof Error ? err : new Error(String(err))),
      );
    }, PING_MS);
    ping.unref();
    try {
      return { acquired: true, value: await fn({ signal: lost.signal }) };
    } finally {
      clearInterval(ping);
    }
  } finally {
    if (locked && broken === undefined) {
      try {
        await client.query(`SELECT pg_advisory_unlock(${advisoryKey("$1")})`, [name]);
        await client.query("RESET idle_session_timeout");
      } catch (err) {
        broken = err instanceof Error ? err : new Error(String(err));
      }
    }
    client.removeListener("error", onError);
    // release(error) makes the pool destroy the connection (and Postgres drop whatever lock it still held).
    client.release(broken);
  }
}
