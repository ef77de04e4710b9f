import type { Queryable } from "@fintech/db";
import type { Counters } from "./counters.js";
import { countersFromJson, countersToJson } from "./counters.js";

/** One scope's counters of one day. */
export interface DayRow {
  scope: string;
  day: string;
  counters: Counters;
}

/** A (scope, day) pair. */
export interface ScopeDay {
  scope: string;
  day: string;
}

/** A pending batch's increments as stored: scope -> day -> field -> integer text. */
export type PendingDeltas = Record<string, Record<string, Record<string, string>>>;

/** The analytics schema's SQL for aggregates. Every function takes the connection or transaction to run on. */
export const store = {
  /**
   * The hot/cold boundary, share-locked until the transaction ends so the mover cannot move it meanwhile.
   * undefined: nothing is cold yet.
   */
  async lockColdBefore(db: Queryable): Promise<string | undefined> {
    const { rows } = await db.query<{ cold_before: string | null }>(
      "SELECT cold_before::text AS cold_before FROM hot_state WHERE id = 1 FOR SHARE",
    );
    return rows[0]?.cold_before ?? undefined;
  },

  async coldBefore(db: Queryable): Promise<string | undefined> {
    const { rows } = await db.query<{ cold_before: string | null }>(
      "SELECT cold_before::text AS cold_before FROM hot_state WHERE id = 1",
    );
    return rows[0]?.cold_before ?? undefined;
  },

  /** Moves the boundary forward to `day` (never back); returns the boundary now in force. */
  async advanceColdBefore(db: Queryable, day: string): Promise<string> {
    const { rows } = await db.query<{ cold_before: string }>(
      `UPDATE hot_state SET cold_before = GREATEST(coalesce(cold_before, $1::date), $1::date)
        WHERE id = 1 RETURNING cold_before::text AS cold_before`,
      [day],
    );
    return rows[0]?.cold_before ?? day;
  },

  /** Inserts (consumer, id) inbox rows; returns the ids that were not there yet. */
  async insertInbox(db: Queryable, consumer: string, ids: string[]): Promise<Set<string>> {
    const { rows } = await db.query<{ event_id: string }>(
      `INSERT INTO inbox (consumer, event_id) SELECT $1, id FROM unnest($2::text[]) AS id
       ON CONFLICT DO NOTHING RETURNING event_id`,
      [consumer, ids],
    );
    return new Set(rows.map((r) => r.event_id));
  },

  async recordCategories(db: Queryable, ids: string[], categories: string[]): Promise<void> {
    await db.query(
      `INSERT INTO purchase_categories (transaction_id, category)
       SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING`,
      [ids, categories],
    );
  },

  async categories(db: Queryable, ids: string[]): Promise<Map<string, string>> {
    const { rows } = await db.query<{ transaction_id: string; category: string }>(
      "SELECT transaction_id, category FROM purchase_categories WHERE transaction_id = ANY($1::text[])",
      [ids],
    );
    return new Map(rows.map((r) => [r.transaction_id, r.category]));
  },

  /** Adds counters to cold days, creating rows as needed (concurrent additions serialise on the row). */
  async addCold(db: Queryable, rows: DayRow[]): Promise<void> {
    if (rows.length === 0) return;
    await db.query(
      `INSERT INTO day_aggregates AS d (scope, day, counters)
       SELECT * FROM unnest($1::text[], $2::date[], $3::jsonb[])
       ON CONFLICT (scope, day) DO UPDATE SET counters = counters_add(d.counters, excluded.counters)`,
      [
        rows.map((r) => r.scope),
        rows.map((r) => r.day),
        rows.map((r) => JSON.stringify(countersToJson(r.counters))),
      ],
    );
  },

  async insertPending(db: Queryable, deltas: PendingDeltas): Promise<string> {
    const { rows } = await db.query<{ id: bigint }>(
      "INSERT INTO pending_batches (deltas) VALUES ($1) RETURNING id",
      [JSON.stringify(deltas)],
    );
    return String(rows[0]?.id);
  },

  /** Locks a pending batch until the transaction ends; undefined when it is gone (already applied). */
  async lockPending(db: Queryable, id: string): Promise<PendingDeltas | undefined> {
    const { rows } = await db.query<{ deltas: PendingDeltas }>(
      "SELECT deltas FROM pending_batches WHERE id = $1 FOR UPDATE",
      [id],
    );
    return rows[0]?.deltas;
  },

  async deletePending(db: Queryable, id: string): Promise<void> {
    await db.query("DELETE FROM pending_batches WHERE id = $1", [id]);
  },

  /** Ids of pending batches at least `minAgeMs` old, oldest first. */
  async pendingIds(db: Queryable, minAgeMs: number, limit: number): Promise<string[]> {
    const { rows } = await db.query<{ id: bigint }>(
      `SELECT id FROM pending_batches WHERE created_at <= now() - make_interval(secs => $1::float8 / 1000)
       ORDER BY id LIMIT $2`,
      [minAgeMs, limit],
    );
    return rows.map((r) => String(r.id));
  },

  async insertHotDays(db: Queryable, pairs: ScopeDay[]): Promise<void> {
    if (pairs.length === 0) return;
    await db.query(
      `INSERT INTO hot_days (scope, day) SELECT * FROM unnest($1::text[], $2::date[]) ON CONFLICT DO NOTHING`,
      [pairs.map((p) => p.scope), pairs.map((p) => p.day)],
    );
  },

  /** Hot (scope, day) pairs before `day`, oldest first. */
  async hotDaysBefore(db: Queryable, day: string, limit: number): Promise<ScopeDay[]> {
    const { rows } = await db.query<ScopeDay>(
      "SELECT scope, day::text AS day FROM hot_days WHERE day < $1::date ORDER BY day, scope LIMIT $2",
      [day, limit],
    );
    return rows;
  },

  async deleteHotDays(db: Queryable, pairs: ScopeDay[]): Promise<void> {
    if (pairs.length === 0) return;
    await db.query(
      `DELETE FROM hot_days h USING unnest($1::text[], $2::date[]) AS x(scope, day)
        WHERE h.scope = x.scope AND h.day = x.day`,
      [pairs.map((p) => p.scope), pairs.map((p) => p.day)],
    );
  },

  /**
   * The mover's upsert: adds each day's Redis counters into its cold row and marks it hot_merged, in one
   * statement, unless it is marked already; so moving a day twice adds it once.
   */
  async mergeHot(db: Queryable, rows: DayRow[]): Promise<void> {
    if (rows.length === 0) return;
    await db.query(
      `INSERT INTO day_aggregates AS d (scope, day, counters, hot_merged)
       SELECT s, dy, c, true FROM unnest($1::text[], $2::date[], $3::jsonb[]) AS x(s, dy, c)
       ON CONFLICT (scope, day) DO UPDATE SET counters = counters_add(d.counters, excluded.counters),
         hot_merged = true
       WHERE NOT d.hot_merged`,
      [
        rows.map((r) => r.scope),
        rows.map((r) => r.day),
        rows.map((r) => JSON.stringify(countersToJson(r.counters))),
      ],
    );
  },

  /** The mover's confirmation: which of `pairs` are marked hot_merged in Postgres. */
  async mergedOf(db: Queryable, pairs: ScopeDay[]): Promise<ScopeDay[]> {
    if (pairs.length === 0) return [];
    const { rows } = await db.query<ScopeDay>(
      `SELECT d.scope, d.day::text AS day FROM day_aggregates d
         JOIN unnest($1::text[], $2::date[]) AS x(scope, day) ON d.scope = x.scope AND d.day = x.day
        WHERE d.hot_merged`,
      [pairs.map((p) => p.scope), pairs.map((p) => p.day)],
    );
    return rows;
  },

  /** Keeps the latest event time a consumer has seen. */
  async advanceWatermark(db: Queryable, consumer: string, eventTime: Date): Promise<void> {
    await db.query(
      `INSERT INTO watermarks AS w (consumer, event_time) VALUES ($1, $2)
       ON CONFLICT (consumer) DO UPDATE SET event_time = GREATEST(w.event_time, excluded.event_time)`,
      [consumer, eventTime],
    );
  },

  /** The event-time clock: the latest event time any consumer has seen; undefined before the first event. */
  async eventTime(db: Queryable): Promise<Date | undefined> {
    const { rows } = await db.query<{ t: Date | null }>("SELECT max(event_time) AS t FROM watermarks");
    return rows[0]?.t ?? undefined;
  },

  /** A scope's cold days from `from` to `to` (undefined: unbounded), with whether Redis' share was merged. */
  async coldDays(
    db: Queryable,
    scope: string,
    from?: string,
    to?: string,
  ): Promise<Array<{ day: string; counters: Counters; hotMerged: boolean }>> {
    const { rows } = await db.query<{ day: string; counters: Record<string, unknown>; hot_merged: boolean }>(
      `SELECT day::text AS day, counters, hot_merged FROM day_aggregates
        WHERE scope = $1 AND ($2::date IS NULL OR day >= $2::date) AND ($3::date IS NULL OR day <= $3::date)`,
      [scope, from ?? null, to ?? null],
    );
    return rows.map((r) => ({ day: r.day, counters: countersFromJson(r.counters), hotMerged: r.hot_merged }));
  },
};
