import type pg from "pg";
import type { Logger } from "pino";
import type { Aggregator } from "./aggregator.js";
import type { Counters } from "./counters.js";
import { addDays, utcDate } from "./dates.js";
import type { HotStore } from "./hot-store.js";
import type { DayRow, ScopeDay } from "./store.js";
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

/** What one pass did. */
export interface MoveResult {
  /** The hot/cold boundary after the pass (days before it are cold); undefined before any event. */
  coldBefore: string | undefined;
  /** (scope, day) pairs moved from Redis to Postgres. */
  moved: number;
}

/**
 * Moves days that have left the hot window from Redis into day_aggregates. The window is measured on the
 * event-time clock (the latest time an event says its change happened), not the wall clock, so replaying an
 * old day keeps its recent days hot.
 *
 * A pass: (1) move the boundary forward under hot_state's lock; from then on every new event for an older day
 * is added to Postgres directly; (2) apply every pending batch, so Redis holds all the increments those days
 * will ever get; (3) per (scope, day) before the boundary: read its Redis counters, upsert them into Postgres
 * and mark the row hot_merged in one statement (a second upsert adds nothing), confirm the mark by reading it
 * back, delete the Redis fields, and only then forget the (scope, day). A crash anywhere repeats at most the
 * idempotent upsert and the delete. Queries read Redis first and ignore the Redis counters of a day marked
 * hot_merged, so they give the same totals before, during and after a move.
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

  /** Step 3's upsert and confirmation for some pairs: returns the pairs now merged, with their Redis fields. */
  async function merge(pairs: ScopeDay[]): Promise<{ merged: ScopeDay[]; fields: Map<string, string[]> }> {
    const scopes = [...new Set(pairs.map((p) => p.scope))];
    const hotByScope = await hot.readScopes(scopes);
    const rows: DayRow[] = [];
    const fields = new Map<string, string[]>();
    for (const { scope, day } of pairs) {
      const counters: Counters = hotByScope.get(scope)?.get(day) ?? new Map();
      rows.push({ scope, day, counters: new Map([...counters].filter(([, v]) => v !== 0n)) });
      const names = fields.get(scope) ?? [];
      for (const name of counters.keys()) names.push(`${day}|${name}`);
      fields.set(scope, names);
    }
    await store.mergeHot(pool, rows);
    const merged = await store.mergedOf(pool, pairs);
    return { merged, fields };
  }

  /** Step 3's deletion for pairs confirmed merged. */
  async function remove(merged: ScopeDay[], fields: Map<string, string[]>): Promise<void> {
    const confirmed = new Set(merged.map((p) => `${p.scope}\u0000${p.day}`));
    const deletable = new Map<string, string[]>();
    for (const [scope, names] of fields) {
      const keep = names.filter((n) => confirmed.has(`${scope}\u0000${n.slice(0, 10)}`));
      if (keep.length > 0) deletable.set(scope, keep);
    }
    await hot.deleteFields(deletable);
    await store.deleteHotDays(pool, merged);
  }

  return {
    /** One full pass; see {@link createMover}. */
    async runOnce(): Promise<MoveResult> {
      const coldBefore = await advance();
      let moved = 0;
      if (coldBefore === undefined) return { coldBefore, moved };
      for (;;) {
        const pairs = await store.hotDaysBefore(pool, coldBefore, chunk);
        if (pairs.length === 0) break;
        const { merged, fields } = await merge(pairs);
        await remove(merged, fields);
        moved += merged.length;
        if (merged.length < pairs.length) {
          log.error({ pairs: pairs.length, merged: merged.length }, "some days were not confirmed merged");
          break;
        }
      }
      if (moved > 0) {
        aggregator.forgetHotDays();
        log.info({ moved, coldBefore }, "moved days from Redis to Postgres");
      }
      return { coldBefore, moved };
    },
  };
}

export type Mover = ReturnType<typeof createMover>;
