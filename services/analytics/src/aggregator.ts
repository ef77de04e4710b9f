import { withTransaction } from "@fintech/db";
import { recordInInbox } from "@fintech/events";
import type { Clock } from "@fintech/platform";
import type { ReviewDecided, TransactionScored } from "@fintech/proto/fintech/fraud/v1/events_pb.js";
import type { TransactionEvent } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import { TransactionType } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import type pg from "pg";
import type { Counters, ScopeDays } from "./counters.js";
import { countersFromJson, countersToJson } from "./counters.js";
import type { HotStore, ScopeBatch } from "./hot-store.js";
import { addReview, addScore, addTransaction } from "./projections.js";
import type { DayRow, PendingDeltas, ScopeDay } from "./store.js";
import { store } from "./store.js";

/** A consumed event, decoded and checked, ready to be counted. */
export type AnalyticsEvent =
  | {
      kind: "transaction";
      /** The event id (ce-id): the inbox key. */
      id: string;
      /** +1: the transaction completed (or was imported); -1: it was reversed. */
      sign: 1n | -1n;
      /** An imported row: no refund will ever name it, so its category is not kept for lookups. */
      imported?: boolean;
      message: TransactionEvent;
      amounts: { currency: string; amount: bigint; base: bigint };
      /** When the change happened, Unix ms: the event-time clock. */
      eventTime: number;
    }
  | { kind: "score"; id: string; message: TransactionScored; eventTime: number }
  | { kind: "review"; id: string; message: ReviewDecided; eventTime: number };

/** Options for {@link createAggregator}. */
export interface AggregatorOptions {
  pool: pg.Pool;
  hot: HotStore;
  clock: Clock;
  baseCurrency: string;
}

/** The event-time clock never runs more than this far ahead of the wall clock, whatever an event claims. */
const MAX_EVENT_TIME_LEAD_MS = 86_400_000;
/** What became of a pending batch: applied now, already applied by someone else, or refused by Redis. */
export type Applied = "applied" | "gone" | "refused";

/**
 * Counts batches of events exactly once into the hot (Redis) and cold (Postgres) aggregates.
 *
 * A batch is one Postgres transaction: inbox rows for its events (the consumer's batch transaction writes them,
 * else {@link Aggregator.record}; a redelivered event finds its row and adds nothing), increments of days before the hot/cold boundary added to day_aggregates directly, and the hot
 * days' increments added to hot_aggregates (their durable copy) and written as a pending batch row. After the
 * commit the pending batch is applied to Redis by {@link Aggregator.applyPending}: under the row's lock, one
 * Lua script per scope that adds the batch id to the scope's applied set and increments only if it was not
 * there, then the row is deleted. So:
 * - a crash after the commit and before the increments leaves the row; recoverPending applies it later (nothing
 *   is lost);
 * - a crash after the increments and before the row's deletion re-runs the scripts, which find the batch id and
 *   do nothing (nothing is counted twice);
 * - the row lock keeps two appliers (the consumer and the mover's drain) from both applying and then clearing
 *   the markers.
 */
export function createAggregator(opts: AggregatorOptions) {
  const { pool, hot, clock, baseCurrency } = opts;

  async function applyPending(id: string, known?: PendingDeltas, force = false): Promise<Applied> {
    // Two round trips: BEGIN with the lock, then the deletion with COMMIT once Redis has the increments.
    const outcome = await withTransaction(
      pool,
      async (_tx, locked) => {
        const deltas = store.pendingDeltas(locked);
        if (deltas === undefined) return "gone" as const;
        const batches = toScopeBatches(known ?? deltas);
        // A bucket that lost its data refuses: the row stays (Postgres has its increments in hot_aggregates, and
        // the rebuild marks it applied), so queries meanwhile read Postgres and nothing is counted twice.
        if (!(await hot.applyBatch(id, batches, force))) return "refused" as const;
        return [...batches.keys()];
      },
      {
        opening: store.lockPendingStatement(id),
        closing: (result) => (typeof result === "string" ? undefined : store.deletePendingStatement(id)),
      },
    );
    if (typeof outcome === "string") return outcome;
    await hot.forgetApplied(id, outcome);
    return "applied";
  }

  /**
   * Counts `events` for `consumer` (the inbox's consumer name) in `tx`, the transaction that recorded them in
   * the inbox (the consumer's batch transaction; only events new to the inbox). Returns the work to do after
   * the commit and before the events are acknowledged: applying their hot increments to Redis.
   */
  async function count(
    tx: pg.PoolClient,
    consumer: string,
    events: AnalyticsEvent[],
  ): Promise<(() => Promise<void>) | undefined> {
    if (events.length === 0) return undefined;
    const coldBefore = await store.lockColdBefore(tx);
    const categories = await resolveCategories(tx, events);
    const deltas: ScopeDays = new Map();
    let eventTime = 0;
    for (const e of events) {
      if (e.kind === "transaction") {
        const category = e.message.merchantCategory || categories.get(e.message.originalTransactionId) || "";
        addTransaction(deltas, e.message, e.amounts, category, e.sign);
      } else if (e.kind === "score") {
        addScore(deltas, e.message, baseCurrency);
      } else {
        addReview(deltas, e.message);
      }
      eventTime = Math.max(eventTime, e.eventTime);
    }

    const cold: DayRow[] = [];
    const hotRows: DayRow[] = [];
    const pending: PendingDeltas = {};
    for (const [scope, days] of [...deltas].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const scopePending: Record<string, Record<string, string>> = {};
      pending[scope] = scopePending;
      for (const [day, counters] of days) {
        const nonZero = dropZeros(counters);
        if (coldBefore !== undefined && day < coldBefore) {
          if (nonZero.size > 0) cold.push({ scope, day, counters: nonZero });
          scopePending[day] = {};
        } else {
          scopePending[day] = countersToJson(nonZero);
          if (nonZero.size > 0) hotRows.push({ scope, day, counters: nonZero });
        }
      }
    }
    cold.sort(byScopeDay);
    hotRows.sort(byScopeDay);
    await store.addCold(tx, cold);
    const capped = Math.min(eventTime, clock.now().getTime() + MAX_EVENT_TIME_LEAD_MS);
    const pendingId = await store.writeBatch(
      tx,
      hotRows,
      pending,
      eventTime > 0 ? { consumer, eventTime: new Date(capped) } : undefined,
    );
    return async () => {
      await applyPending(pendingId, pending);
    };
  }

  return {
    /** Counts events already recorded in the inbox, in the transaction that recorded them. */
    count,

    /**
     * Records `events` in `consumer`'s inbox and counts the new ones, in one transaction, then applies their hot
     * increments before returning (what the consumer does for a batch). Returns how many were new.
     */
    async record(consumer: string, events: AnalyticsEvent[]): Promise<number> {
      if (events.length === 0) return 0;
      const { counted, after } = await withTransaction(pool, async (tx) => {
        const fresh = await recordInInbox(
          tx,
          consumer,
          events.map((e) => e.id),
        );
        const todo = events.filter((e) => fresh.delete(e.id));
        return { counted: todo.length, after: await count(tx, consumer, todo) };
      });
      await after?.();
      return counted;
    },

    /**
     * Applies one pending batch to Redis and deletes it, waiting for whoever holds it. `known` saves re-reading
     * the deltas the caller just wrote; `force` applies it to buckets without a marker too.
     */
    applyPending,

    /**
     * Applies every pending batch at least `minAgeMs` old (left by a crash, or refused while Redis was empty);
     * returns how many it applied. Batches Redis refuses stay for the rebuild.
     */
    async recoverPending(minAgeMs: number): Promise<number> {
      let applied = 0;
      let after = "0";
      for (;;) {
        const ids = await store.pendingIds(pool, minAgeMs, 100, after);
        for (const id of ids) if ((await applyPending(id)) === "applied") applied++;
        if (ids.length < 100) return applied;
        after = ids[ids.length - 1] ?? after;
      }
    },
  };
}

export type Aggregator = ReturnType<typeof createAggregator>;

async function resolveCategories(tx: pg.PoolClient, events: AnalyticsEvent[]): Promise<Map<string, string>> {
  const purchaseIds: string[] = [];
  const purchaseCategories: string[] = [];
  const wanted: string[] = [];
  for (const e of events) {
    if (e.kind !== "transaction") continue;
    const m = e.message;
    if (
      m.type === TransactionType.PURCHASE &&
      e.sign > 0n &&
      m.merchantCategory !== "" &&
      m.transactionId !== ""
    ) {
      purchaseIds.push(m.transactionId);
      purchaseCategories.push(m.merchantCategory);
    } else if (
      m.type === TransactionType.REFUND &&
      m.merchantCategory === "" &&
      m.originalTransactionId !== ""
    ) {
      wanted.push(m.originalTransactionId);
    }
  }
  if (purchaseIds.length > 0) await store.recordCategories(tx, purchaseIds, purchaseCategories);
  if (wanted.length === 0) return new Map();
  return store.categories(tx, wanted);
}

function dropZeros(counters: Counters): Counters {
  for (const value of counters.values()) {
    if (value === 0n) return new Map([...counters].filter(([, v]) => v !== 0n));
  }
  return counters;
}

function byScopeDay(a: ScopeDay, b: ScopeDay): number {
  if (a.scope !== b.scope) return a.scope < b.scope ? -1 : 1;
  return a.day < b.day ? -1 : a.day > b.day ? 1 : 0;
}

/** A pending batch's deltas as the hot store applies them. */
export function toScopeBatches(deltas: PendingDeltas): Map<string, ScopeBatch> {
  const out = new Map<string, ScopeBatch>();
  for (const [scope, days] of Object.entries(deltas)) {
    const batch: ScopeBatch = new Map();
    for (const [day, fields] of Object.entries(days)) batch.set(day, countersFromJson(fields));
    out.set(scope, batch);
  }
  return out;
}
