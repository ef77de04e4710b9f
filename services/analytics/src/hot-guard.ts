import type { Queryable } from "@fintech/db";
import { tryAdvisoryXactLock, withTransaction } from "@fintech/db";
import type { Redis } from "ioredis";
import type pg from "pg";
import type { Logger } from "pino";
import type { Aggregator } from "./aggregator.js";
import { toScopeBatches } from "./aggregator.js";
import type { AnalyticsMetrics } from "./analytics-metrics.js";
import type { Counters } from "./counters.js";
import type { HotStore } from "./hot-store.js";
import type { DayRow } from "./store.js";
import { store } from "./store.js";

/** Options for {@link createHotGuard}. */
export interface HotGuardOptions {
  pool: pg.Pool;
  hot: HotStore;
  aggregator: Aggregator;
  /** The client the hot store uses: a reconnect ('ready') triggers a check at once. */
  redis: Redis;
  logger: Logger;
  metrics: AnalyticsMetrics;
  /** Pause between checks of the markers, ms. */
  intervalMs: number;
}

/** Raised when Redis did not keep a rebuild (it went away meanwhile); the next check rebuilds again. */
export class HotStoreRebuildError extends Error {
  override readonly name = "HotStoreRebuildError";
}

/** A pending batch younger than this is its consumer's to apply, ms. */
const PENDING_MIN_AGE_MS = 2000;

/** What one check found and did. */
export type CheckResult = "intact" | "rebuilt" | "busy";

/**
 * Keeps Redis' hot store whole. Redis may lose its data at any time (a restart without persistence, FLUSHALL,
 * a failover to an empty replica); Postgres holds every hot counter too (hot_aggregates, written with the
 * events' inbox rows), so the hot store can always be rebuilt from it.
 *
 * Every bucket of the hot store carries a marker: the generation (hot_state.generation) it was built for. A
 * check (every `intervalMs`, and at once when the Redis client reconnects) compares the markers with the
 * generation; a marker missing or different means the bucket's data is gone or stale. Until the rebuild, the
 * Lua script that counts refuses such a bucket (its batches stay pending) and queries of its scopes read
 * Postgres, so nobody sees or builds on what is left.
 *
 * The rebuild, in one Postgres transaction: take an advisory lock (one replica rebuilds, the others skip),
 * lock hot_state (batches share-lock it: none commits until the rebuild is done, so the snapshot below is
 * every counted event), check again, read hot_aggregates and the ids of the pending batches (they are in the
 * snapshot already: the rebuild marks them applied), write Redis bucket by bucket with each marker last, check
 * that every marker is there, bump the generation, commit. A new generation also retires every cached answer
 * (the generation is part of the cache token). A failure anywhere rolls back and leaves buckets unmarked or
 * marked with a generation that never committed, so the next check starts over.
 */
export function createHotGuard(opts: HotGuardOptions) {
  const { pool, hot, aggregator, redis, logger, metrics, intervalMs } = opts;
  const log = logger.child({ component: "hot-guard" });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  /** The generation whose loss this process counted, so a rebuild that fails and is retried counts once. */
  let counted: bigint | undefined;

  const whole = (markers: Array<string | null>, generation: bigint) =>
    generation > 0n && markers.every((m) => m === String(generation));

  /**
   * First build only (generation 0): an earlier version counted the hot days in Redis alone. Apply what it left
   * pending, then copy its Redis counters into hot_aggregates, so the build below keeps them.
   */
  async function adopt(tx: Queryable): Promise<Array<[string, string[]]>> {
    const forget: Array<[string, string[]]> = [];
    for (const id of await store.allPendingIds(tx)) {
      const deltas = await store.lockPending(tx, id);
      if (deltas === undefined) continue;
      const batches = toScopeBatches(deltas);
      await hot.applyBatch(id, batches, true);
      await store.deletePending(tx, id);
      forget.push([id, [...batches.keys()]]);
    }
    const legacy = await store.legacyHotDays(tx);
    if (legacy.length > 0) {
      const byScope = await hot.readScopes([...new Set(legacy.map((p) => p.scope))]);
      const rows: DayRow[] = [];
      for (const { scope, day } of legacy) {
        const counters: Counters = new Map(
          [...(byScope.get(scope)?.get(day) ?? [])].filter(([, v]) => v !== 0n),
        );
        if (counters.size > 0) rows.push({ scope, day, counters });
      }
      await store.addHot(tx, rows);
      log.info({ days: rows.length }, "adopted the hot days an earlier version kept only in Redis");
    }
    await store.clearLegacyHotDays(tx);
    return forget;
  }

  async function rebuild(): Promise<CheckResult> {
    const started = Date.now();
    const outcome = await withTransaction(pool, async (tx) => {
      if (!(await tryAdvisoryXactLock(tx, "analytics.hot-rebuild"))) return undefined;
      // Batches wait on hot_state while this holds it: a Redis that hangs mid-rebuild must not stall them for
      // good. Postgres ends the session (and so the lock) when it idles this long between statements.
      await tx.query("SET LOCAL idle_in_transaction_session_timeout = '2min'");
      const generation = await store.lockGeneration(tx);
      const markers = await hot.markers();
      if (whole(markers, generation)) return undefined;
      const lost = generation > 0n;
      const missing = markers.filter((m) => m !== String(generation)).length;
      if (lost && counted !== generation) {
        counted = generation;
        metrics.redisDataLoss.inc();
        log.warn(
          { generation: String(generation), bucketsLost: missing, buckets: markers.length },
          "Redis lost the analytics hot store; rebuilding it from Postgres",
        );
      }
      const forget = lost ? [] : await adopt(tx);
      const scopes = await store.hotCounters(tx);
      const pending = await store.allPendingIds(tx);
      const next = generation + 1n;
      await hot.rebuild(String(next), scopes, pending);
      if (!whole(await hot.markers(), next)) {
        throw new HotStoreRebuildError("Redis did not keep the rebuilt hot store; will rebuild again");
      }
      await store.setGeneration(tx, next);
      let days = 0;
      for (const d of scopes.values()) days += d.size;
      return { lost, next, scopes: scopes.size, days, pending: pending.length, forget };
    });
    if (outcome === undefined) return "busy";
    hot.expectGeneration(String(outcome.next));
    for (const [id, scopes] of outcome.forget) await hot.forgetApplied(id, scopes);
    // Batches refused while the buckets were unmarked are in the rebuilt counters and marked applied: this
    // deletes their rows (the scripts find the marks and add nothing).
    await aggregator.recoverPending(0);
    log[outcome.lost ? "warn" : "info"](
      {
        generation: String(outcome.next),
        scopes: outcome.scopes,
        days: outcome.days,
        pendingBatches: outcome.pending,
        ms: Date.now() - started,
      },
      outcome.lost
        ? "rebuilt the analytics hot store in Redis from Postgres"
        : "built the analytics hot store",
    );
    return "rebuilt";
  }

  /** Compares the markers with the generation and rebuilds when they differ. */
  async function check(): Promise<CheckResult> {
    const generation = await store.generation(pool);
    // Another replica may have rebuilt: from now on only its generation is read.
    if (generation > 0n) hot.expectGeneration(String(generation));
    if (whole(await hot.markers(), generation)) return "intact";
    return rebuild();
  }

  /** Runs a check now, or right after the one running. */
  function schedule(): void {
    if (running !== undefined) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        try {
          // Batches left pending by a Redis that was briefly unreachable (their events are acknowledged) are
          // applied within a check rather than at the next mover pass; the age keeps clear of live batches.
          if ((await check()) === "intact") await aggregator.recoverPending(PENDING_MIN_AGE_MS);
        } catch (err) {
          log.error({ err }, "hot store check failed; will retry");
        }
      } while (again && timer !== undefined);
    })().finally(() => {
      running = undefined;
    });
  }

  const onReady = () => schedule();

  return {
    check,

    /** Checks every `intervalMs` and whenever the Redis client (re)connects. */
    start(): void {
      if (timer !== undefined) return;
      timer = setInterval(schedule, intervalMs);
      redis.on("ready", onReady);
    },

    /** Stops checking; waits for a check under way. */
    async stop(): Promise<void> {
      clearInterval(timer);
      timer = undefined;
      redis.off("ready", onReady);
      await running;
    },
  };
}

export type HotGuard = ReturnType<typeof createHotGuard>;
