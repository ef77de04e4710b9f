import type pg from "pg";
import { withAdvisoryLock } from "./advisory-lock.js";

/** Options for {@link createExclusiveJob}. */
export interface ExclusiveJobOptions {
  pool: pg.Pool;
  /** The job's advisory lock (see withAdvisoryLock), unique within the schema, e.g. `"ledger.expiry-sweeper"`. */
  name: string;
  /** Milliseconds between attempts. */
  intervalMs: number;
  /**
   * One pass: the work the database says is due. `signal` aborts when the lock is lost mid-pass; the pass then
   * stops at its next step.
   */
  run: (signal: AbortSignal) => Promise<void>;
  /** Receives the error of a failed attempt; attempts go on at the interval all the same. */
  onError: (err: unknown) => void;
}

/** A periodic job run by one replica at a time; see {@link createExclusiveJob}. */
export interface ExclusiveJob {
  /** Attempts a pass every `intervalMs` in the background (the timer does not keep the process alive). */
  start(): void;
  /** Stops attempting, and waits for the pass in progress. */
  stop(): Promise<void>;
  /** One attempt now: true when this process took the lock and ran a pass; false when another replica holds it. */
  runOnce(): Promise<boolean>;
}

/**
 * A background job that several replicas run against one database and that must not run twice at once: every
 * replica attempts a pass every `intervalMs`, and only the one that takes the job's advisory lock runs it; the
 * others skip that attempt. A pass does what the database says is due, so whoever runs the next one finds the
 * last one's work done: a replica that stops or dies only hands the next pass to another (its lock goes with its
 * connection, see withAdvisoryLock), and nothing depends on timers agreeing.
 */
export function createExclusiveJob(opts: ExclusiveJobOptions): ExclusiveJob {
  const { pool, name, intervalMs, run, onError } = opts;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;

  async function runOnce(): Promise<boolean> {
    const outcome = await withAdvisoryLock(pool, name, (lock) => run(lock.signal));
    return outcome.acquired;
  }

  return {
    start() {
      if (timer !== undefined) return;
      timer = setInterval(() => {
        inFlight ??= runOnce().then(
          () => {
            inFlight = undefined;
          },
          (err: unknown) => {
            inFlight = undefined;
            onError(err);
          },
        );
      }, intervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await inFlight;
    },
    runOnce,
  };
}
