import type pg from "pg";
import type { Counters } from "./counters.js";
import { addCounters } from "./counters.js";
import type { HotStore } from "./hot-store.js";
import { store } from "./store.js";

/**
 * A scope's counters per day from `from` to `to` inclusive (undefined: unbounded), hot and cold merged.
 *
 * Redis is read before Postgres, and a cold row marked hot_merged makes the day's Redis counters (if still
 * there) be ignored: a day being moved meanwhile is then counted exactly once whichever step the mover is at
 * (before its upsert: Redis + the unmerged row; after it: the merged row, Redis ignored or already deleted).
 *
 * While the scope's Redis bucket has no marker (Redis lost it and it is being rebuilt), the answer comes from
 * Postgres alone (hot_aggregates and day_aggregates): slower, but right, where what is left in Redis is not.
 */
export async function readDays(
  pool: pg.Pool,
  hot: HotStore,
  scope: string,
  from?: string,
  to?: string,
): Promise<Map<string, Counters>> {
  const hotDays = await hot.readDays(scope, from, to);
  if (hotDays === undefined) return store.durableDays(pool, scope, from, to);
  const coldDays = await store.coldDays(pool, scope, from, to);
  const out = new Map<string, Counters>();
  for (const { day, counters, hotMerged } of coldDays) {
    const merged = new Map(counters);
    const fromRedis = hotDays.get(day);
    if (fromRedis !== undefined && !hotMerged) addCounters(merged, fromRedis);
    hotDays.delete(day);
    out.set(day, merged);
  }
  for (const [day, counters] of hotDays) out.set(day, counters);
  return out;
}
