import { withAdvisoryLock, withTransaction } from "@fintech/db";
import type pg from "pg";
import type { Logger } from "pino";
import type { Aggregator } from "./aggregator.js";
import { addDays, utcDate } from "./dates.js";
import type { HotStore } from "./hot-store.js";
import type { ScopeDay } from "./store.js";
import { store } from "./store.js";

/** Options for {@link createMover}. */
export interface MoverOptions {
  pool: pg.Pool;
  hot: HotStore;
  aggregator: Aggregator;
  logger: Logger;
  /** Days kept in Redis, counted back from the event-time clock's UTC day (that day included). */
  hotDays: number;
  /** (scope, day) pairs moved per round; default 500. */
  chunk?: number;
}

/** The mover's advisory lock: one replica moves at a time. */
const MOVER_LOCK = "analytics.mover";

/** What one pass did. */
export interface MoveResult {
  /** The hot/cold boundary after the pass (days before it are cold); undefined before any event. */
  coldBefore: string | undefined;
  /** (scope, day) pairs this pass moved from Redis to Postgres (0 when another replica was moving). */
  moved: number;
}

/**
 * Moves days that have left the hot window into day_aggregates. The window is measured on the event-time clock
 * (the latest time an event says its change happened), not the wall clock, so replaying an old day keeps its
 * recent days hot.
 *
 * A pass: (1) move the boundary forward under hot_state's lock; from then on every new event for an older day
 * is added to Postgres directly, so the hot_aggregates rows of older days are final; (2) apply every pending
 * batch, so Redis holds no increment left to land on a day after it is moved; (3) per chunk of (scope, day)
 * before the boundary: in one statement, add its hot_aggregates row into day_aggregates marked hot_merged (a
 * day already marked adds nothing) and mark the row moved; then delete the day's Redis fields, then the row.
 * The counters moved are Postgres' own durable copy, never what Redis holds, so a Redis emptied mid-move cannot
 * make the mover lose or double count a day; a crash anywhere repeats at most the Redis deletion (the moved
 * row stays until it is done). Queries read Redis first and
 * ignore the Redis counters of a day marked hot_merged, so they give the same totals before, during and after
 * a move.
 *
 * Every replica runs the mover; a pass runs only on the replica holding the mover's advisory lock (libs/db's
 * withAdvisoryLock), the others skip theirs, so replicas never move (and report) the same day twice. A pass
 * whose lock is lost mid-way stops after its chunk; the steps above keep an overlapping pass harmless.
 */
export function createMover(opts: MoverOptions) {
  const { pool, hot, aggregator, logger, hotDays } = opts;
  const chunk = opts.chunk ?? 500;
  const log = logger.child({ component: "mover" });

  /** Steps 1 and 2: returns the boundary in force. */
  async function advance(): Promise<string | undefined> {
    const eventTime = await store.eventTime(pool);
    let coldBefore = await store.coldBefore(pool);
    if (eventTime !== undefined) {
      const target = addDays(utcDate(eventTime.getTime()), 1 - hotDays);
      if (coldBefore === undefined || target > coldBefore) {
        coldBefore = await store.advanceColdBefore(pool, target);
      }
    }
    await aggregator.recoverPending(0);
    return coldBefore;
  }

  /** Step 3 for one chunk; returns the pairs moved. */
  async function moveChunk(coldBefore: string): Promise<ScopeDay[]> {
    // Share-locking hot_state waits out a rebuild (which holds it while it writes Redis), so a rebuild never
    // writes back into Redis a day this chunk has just moved and deleted there.
    const moved = await withTransaction(pool, async (tx) => {
      await store.lockColdBefore(tx);
      return store.moveHot(tx, coldBefore, chunk);
    });
    await hot.deleteFields(await hot.fieldsOf(moved));
    await store.deleteMoved(pool, moved);
    return moved;
  }

  /** One full pass, stopping between chunks when `signal` aborts. */
  async function pass(signal: AbortSignal): Promise<MoveResult> {
    const coldBefore = await advance();
    let moved = 0;
    if (coldBefore === undefined) return { coldBefore, moved };
    while (!signal.aborted) {
      const pairs = await moveChunk(coldBefore);
      moved += pairs.length;
      if (pairs.length < chunk) break;
    }
    if (moved > 0) log.info({ moved, coldBefore }, "moved days from Redis to Postgres");
    return { coldBefore, moved };
  }

  return {
    /** One full pass, unless another replica is running one (then nothing); see {@link createMover}. */
    async runOnce(): Promise<MoveResult> {
      const outcome = await withAdvisoryLock(pool, MOVER_LOCK, (lock) => pass(lock.signal));
      return outcome.acquired ? outcome.value : { coldBefore: await store.coldBefore(pool), moved: 0 };
    },
  };
}

export type Mover = ReturnType<typeof createMover>;
