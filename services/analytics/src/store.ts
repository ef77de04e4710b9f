import type { Queryable } from "@fintech/db";
import type { Counters } from "./counters.js";
import { addCounters, countersFromJson, countersToJson } from "./counters.js";

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

/** Adds rows ($1 scopes, $2 days, $3 counters: {@link dayColumns}) to hot_aggregates, creating them as needed. */
const ADD_HOT = `INSERT INTO hot_aggregates AS h (scope, day, counters)
  SELECT * FROM unnest($1::text[], $2::date[], $3::jsonb[])
  ON CONFLICT (scope, day) DO UPDATE SET counters = counters_add(h.counters, excluded.counters)`;

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
      dayColumns(rows),
    );
  },

  /**
   * What a batch writes, in one statement: the hot days' increments (as {@link addHot}), the batch pending for
   * Redis, and with `watermark` the latest event time the consumer has seen (kept where it is if later). Returns
   * the pending batch's id.
   */
  async writeBatch(
    db: Queryable,
    hotRows: DayRow[],
    deltas: PendingDeltas,
    watermark: { consumer: string; eventTime: Date } | undefined,
  ): Promise<string> {
    const { rows } = await db.query<{ id: bigint }>(
      `WITH hot AS (${ADD_HOT}), mark AS (
         INSERT INTO watermarks AS w (consumer, event_time)
         SELECT $5::text, $6::timestamptz WHERE $6::timestamptz IS NOT NULL
         ON CONFLICT (consumer) DO UPDATE SET event_time = GREATEST(w.event_time, excluded.event_time)
       )
       INSERT INTO pending_batches (deltas) VALUES ($4) RETURNING id`,
      [
        ...dayColumns(hotRows),
        JSON.stringify(deltas),
        watermark?.consumer ?? "",
        watermark?.eventTime ?? null,
      ],
    );
    return String(rows[0]?.id);
  },

  /**
   * The statement that locks pending batch `id` until the transaction ends, for withTransaction's opening (a
   * simple query: the id, which the database gave, is checked to be an integer); its rows are read by
   * {@link pendingDeltas}.
   */
  lockPendingStatement,

  /** The deltas a {@link lockPendingStatement} found; undefined when the batch is gone (already applied). */
  pendingDeltas,

  /** Locks a pending batch until the transaction ends; undefined when it is gone (already applied). */
  async lockPending(db: Queryable, id: string): Promise<PendingDeltas | undefined> {
    return pendingDeltas(await db.query<{ deltas: PendingDeltas }>(lockPendingStatement(id)));
  },

  /** The statement that deletes pending batch `id` (a simple query, as {@link lockPendingStatement}). */
  deletePendingStatement,

  async deletePending(db: Queryable, id: string): Promise<void> {
    await db.query(deletePendingStatement(id));
  },

  /** Ids of pending batches at least `minAgeMs` old, after id `after`, oldest first. */
  async pendingIds(db: Queryable, minAgeMs: number, limit: number, after = "0"): Promise<string[]> {
    const { rows } = await db.query<{ id: bigint }>(
      `SELECT id FROM pending_batches WHERE created_at <= now() - make_interval(secs => $1::float8 / 1000)
         AND id > $3::bigint
       ORDER BY id LIMIT $2`,
      [minAgeMs, limit, after],
    );
    return rows.map((r) => String(r.id));
  },

  /**
   * Adds the hot days' increments to their durable copy (hot_aggregates), in the batch's transaction, so Redis
   * is never the only copy of a counted event. Rows come sorted by (scope, day): concurrent batches lock them in
   * the same order.
   */
  async addHot(db: Queryable, rows: DayRow[]): Promise<void> {
    if (rows.length === 0) return;
    await db.query(ADD_HOT, dayColumns(rows));
  },

  /**
   * The mover's step: up to `limit` hot days before `day`, oldest first. Those not moved yet are added into
   * day_aggregates, marked hot_merged there and moved here, in one statement: a day counts in exactly one of
   * the two tables at any time, and a day already marked hot_merged adds nothing. Returns every pair picked
   * (moved now or by an earlier pass that did not get to delete it), for deleting its Redis fields and then
   * {@link deleteMoved}.
   */
  async moveHot(db: Queryable, day: string, limit: number): Promise<ScopeDay[]> {
    const { rows } = await db.query<ScopeDay>(
      `WITH picked AS (
         SELECT scope, day, counters, moved FROM hot_aggregates WHERE day < $1::date
          ORDER BY day, scope LIMIT $2 FOR UPDATE
       ), merged AS (
         INSERT INTO day_aggregates AS d (scope, day, counters, hot_merged)
         SELECT scope, day, counters, true FROM picked WHERE NOT moved ORDER BY scope, day
         ON CONFLICT (scope, day) DO UPDATE SET counters = counters_add(d.counters, excluded.counters),
           hot_merged = true
         WHERE NOT d.hot_merged
       ), marked AS (
         UPDATE hot_aggregates h SET moved = true FROM picked p
          WHERE h.scope = p.scope AND h.day = p.day AND NOT p.moved
       )
       SELECT scope, day::text AS day FROM picked`,
      [day, limit],
    );
    return rows;
  },

  /** Forgets moved hot days whose Redis fields are deleted. */
  async deleteMoved(db: Queryable, pairs: ScopeDay[]): Promise<void> {
    if (pairs.length === 0) return;
    await db.query(
      `DELETE FROM hot_aggregates h USING unnest($1::text[], $2::date[]) AS x(scope, day)
        WHERE h.scope = x.scope AND h.day = x.day AND h.moved`,
      [pairs.map((p) => p.scope), pairs.map((p) => p.day)],
    );
  },

  /** The hot store's generation, locked until the transaction ends: batches (FOR SHARE) wait meanwhile. */
  async lockGeneration(db: Queryable): Promise<bigint> {
    const { rows } = await db.query<{ generation: bigint }>(
      "SELECT generation FROM hot_state WHERE id = 1 FOR UPDATE",
    );
    return rows[0]?.generation ?? 0n;
  },

  async generation(db: Queryable): Promise<bigint> {
    const { rows } = await db.query<{ generation: bigint }>("SELECT generation FROM hot_state WHERE id = 1");
    return rows[0]?.generation ?? 0n;
  },

  async setGeneration(db: Queryable, generation: bigint): Promise<void> {
    await db.query("UPDATE hot_state SET generation = $1 WHERE id = 1", [generation]);
  },

  /** Every hot counter not moved yet: scope -> day -> counters. */
  async hotCounters(db: Queryable): Promise<Map<string, Map<string, Counters>>> {
    const { rows } = await db.query<{ scope: string; day: string; counters: Record<string, unknown> }>(
      "SELECT scope, day::text AS day, counters FROM hot_aggregates WHERE NOT moved",
    );
    const out = new Map<string, Map<string, Counters>>();
    for (const r of rows) {
      let days = out.get(r.scope);
      if (days === undefined) {
        days = new Map();
        out.set(r.scope, days);
      }
      days.set(r.day, countersFromJson(r.counters));
    }
    return out;
  },

  async allPendingIds(db: Queryable): Promise<string[]> {
    const { rows } = await db.query<{ id: bigint }>("SELECT id FROM pending_batches ORDER BY id");
    return rows.map((r) => String(r.id));
  },

  /** (scope, day) pairs an earlier version counted only in Redis: listed in hot_days, not moved yet. */
  async legacyHotDays(db: Queryable): Promise<ScopeDay[]> {
    const { rows } = await db.query<ScopeDay>(
      `SELECT h.scope, h.day::text AS day FROM hot_days h
        WHERE NOT EXISTS (SELECT 1 FROM day_aggregates d WHERE d.scope = h.scope AND d.day = h.day AND d.hot_merged)
        ORDER BY h.scope, h.day`,
    );
    return rows;
  },

  async clearLegacyHotDays(db: Queryable): Promise<void> {
    await db.query("DELETE FROM hot_days");
  },

  /** The event-time clock: the latest event time any consumer has seen; undefined before the first event. */
  async eventTime(db: Queryable): Promise<Date | undefined> {
    const { rows } = await db.query<{ t: Date | null }>("SELECT max(event_time) AS t FROM watermarks");
    return rows[0]?.t ?? undefined;
  },

  /**
   * A scope's counters per day from `from` to `to` (undefined: unbounded), hot and cold, from Postgres alone
   * (read in one statement, so a day the mover moves meanwhile is counted once): the answer while Redis is
   * being rebuilt.
   */
  async durableDays(
    db: Queryable,
    scope: string,
    from?: string,
    to?: string,
  ): Promise<Map<string, Counters>> {
    const { rows } = await db.query<{ day: string; counters: Record<string, unknown> }>(
      `SELECT day::text AS day, counters FROM day_aggregates
        WHERE scope = $1 AND ($2::date IS NULL OR day >= $2::date) AND ($3::date IS NULL OR day <= $3::date)
       UNION ALL
       SELECT day::text AS day, counters FROM hot_aggregates
        WHERE scope = $1 AND NOT moved AND ($2::date IS NULL OR day >= $2::date) AND ($3::date IS NULL OR day <= $3::date)`,
      [scope, from ?? null, to ?? null],
    );
    const out = new Map<string, Counters>();
    for (const r of rows) {
      const counters = out.get(r.day);
      if (counters === undefined) out.set(r.day, countersFromJson(r.counters));
      else addCounters(counters, countersFromJson(r.counters));
    }
    return out;
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

function lockPendingStatement(id: string): string {
  return `SELECT deltas FROM pending_batches WHERE id = ${pendingId(id)} FOR UPDATE`;
}

function pendingDeltas(
  locked: { rows: Array<{ deltas?: PendingDeltas }> } | undefined,
): PendingDeltas | undefined {
  return locked?.rows[0]?.deltas;
}

function deletePendingStatement(id: string): string {
  return `DELETE FROM pending_batches WHERE id = ${pendingId(id)}`;
}

/** A pending batch's id, checked to be what the database gives one (a bigint) before it is written into SQL. */
function pendingId(id: string): string {
  if (!/^[0-9]{1,19}$/.test(id)) throw new Error(`not a pending batch id: ${JSON.stringify(id)}`);
  return id;
}

/** Day rows as the three arrays the statements unnest: scopes, days and counters (JSON). */
function dayColumns(rows: DayRow[]): [string[], string[], string[]] {
  return [
    rows.map((r) => r.scope),
    rows.map((r) => r.day),
    rows.map((r) => JSON.stringify(countersToJson(r.counters))),
  ];
}
