import { createHash } from "node:crypto";
import type { Queryable } from "@fintech/db";
import { createBatcher } from "@fintech/db";
import type { Clock } from "@fintech/platform";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { BATCHING } from "./batching.js";
import type { FraudMetrics } from "./metrics.js";
import type { Features } from "./scoring.js";

/** A transaction the feature consumer saw (wallet.transaction.created). */
export interface ObservedTransaction {
  transactionId: string;
  userId: string;
  occurredAt: Date;
  /** See {@link signatureOf}. */
  signature: string;
  /** Base-currency amount in minor units; undefined leaves it out of the daily totals. */
  baseAmountMinor: bigint | undefined;
}

/** What scoring one transaction needs to know about its user. */
export interface FeatureQuery {
  transactionId: string;
  userId: string;
  /** The transaction's time: windows end here (inclusive) and start `window` before it (exclusive). */
  at: Date;
  signature: string;
  highVelocityMs: number;
  suspiciousVelocityMs: number;
  duplicateMs: number;
  /** The longest window of the rule set in force (how far back Redis must be complete). */
  longestMs: number;
  /** UNUSUAL_AMOUNT's full UTC days before the day of `at`; that day up to `at` counts as well. */
  lookbackDays: number;
}

export type FeatureSource = "redis" | "postgres";

/**
 * Same type, currency, amount and merchant (trimmed, case-insensitive) -> same signature: what
 * POSSIBLE_DUPLICATE compares. Hashed so that keys and rows stay short whatever the merchant name.
 */
export function signatureOf(t: {
  type: number;
  currency: string;
  amountMinor: bigint | string;
  merchant: string;
}) {
  return createHash("sha1")
    .update(`${t.type}|${t.currency}|${t.amountMinor}|${t.merchant.trim().toLowerCase()}`)
    .digest("base64url")
    .slice(0, 22);
}

const DAY_MS = 86_400_000;

/** YYYY-MM-DD (UTC) of the day `days` after the day of `at`. */
function utcDay(at: Date, days = 0): string {
  return new Date(Math.floor(at.getTime() / DAY_MS) * DAY_MS + days * DAY_MS).toISOString().slice(0, 10);
}

// Raises the stale marker to ARGV[1] (never lowers it), expiring after ARGV[2] ms.
const RAISE_STALE = `local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
return 0`;

export interface FeatureStoreOptions {
  /** The fraud schema: where scoring reads daily totals, and windows when Redis cannot answer. */
  db: Queryable;
  /** Create it with `enableOfflineQueue: false`, so calls fail at once while it is disconnected. */
  redis: Redis;
  /** A score's Redis round trip not answered within this many milliseconds counts as Redis being down. */
  timeoutMs: number;
  /**
   * The same for the consumer's writes of windows. A write given up leaves a gap that sends every score whose
   * windows reach into it to Postgres for the longest window (hours), so it is given far longer than a read,
   * which only sends its own score there: a busy process whose timer fires before Redis's answer is read must
   * not pass for Redis being down.
   */
  writeTimeoutMs: number;
  /** How long a user's lookback totals are reused, in milliseconds; 0 reads them on every score. */
  historyCacheTtlMs: number;
  /** Most users' lookback totals kept in memory. */
  historyCacheSize: number;
  /** Put in front of every key, e.g. "fraud:". */
  prefix: string;
  logger: Logger;
  metrics: FraudMetrics;
  clock: Clock;
}

/**
 * The user features scoring reads, kept from wallet events. Postgres (the service's schema) holds the truth:
 * each user's recent transactions and per-day totals, written in the consumer's inbox transaction. Redis holds
 * the velocity and duplicate windows as sorted sets (member = transaction id, so a redelivered event is not
 * counted twice), read in one round trip per score. The lookback's daily totals come from Postgres, one
 * statement for the users of concurrent scores, and are kept in memory for `historyCacheTtlMs`; the scored
 * transaction's own day, up to it, is read from the transaction rows on every score.
 *
 * When Redis fails, scoring reads the windows from Postgres (slower, bounded by the index on
 * (user_id, occurred_at)). Events whose Redis write failed leave a gap; the store raises a marker
 * (`<prefix>meta:stale_until`, in event time) at the next successful Redis call, and scores whose windows reach
 * into the gap read Postgres until the windows have moved past it. A Redis that lost its data (restart without
 * persistence) is noticed by the missing `<prefix>meta:epoch` key and handled the same way.
 */
export function createFeatureStore(options: FeatureStoreOptions) {
  const { db, redis, prefix, logger, metrics, clock, timeoutMs, writeTimeoutMs } = options;
  const { historyCacheTtlMs, historyCacheSize } = options;
  const staleKey = `${prefix}meta:stale_until`;
  const epochKey = `${prefix}meta:epoch`;
  const velocityKey = (userId: string) => `${prefix}vel:{${userId}}`;
  const duplicateKey = (userId: string, signature: string) => `${prefix}dup:{${userId}}:${signature}`;

  // Event time up to which Redis may be missing events, not yet written to Redis (it was down).
  let pendingStale: { until: number; ttlMs: number } | undefined;
  let degraded = false;

  function redisFailed(err: unknown, op: "read" | "write"): void {
    metrics.redisErrors.inc({ op });
    // One line per outage, not one per call.
    if (!degraded)
      logger.warn({ err, op }, "redis unavailable; fraud features from postgres until it is back");
    else logger.debug({ err, op }, "redis still unavailable");
    degraded = true;
  }

  function redisOk(): void {
    if (degraded) logger.info("redis available again");
    degraded = false;
  }

  function raiseStale(until: number, ttlMs: number): void {
    if (!pendingStale || pendingStale.until < until) pendingStale = { until, ttlMs };
  }

  type Pipeline = ReturnType<Redis["pipeline"]>;

  // The marker goes first in whatever pipeline runs next, so that pipeline's reads already see it.
  function withPendingStale(pipeline: Pipeline): { until: number; ttlMs: number } | undefined {
    const pending = pendingStale;
    if (pending) pipeline.eval(RAISE_STALE, 1, staleKey, pending.until, Math.max(1, pending.ttlMs));
    return pending;
  }

  function settled(pending: { until: number } | undefined): void {
    if (pending && pendingStale?.until === pending.until) pendingStale = undefined;
  }

  // One timer per round trip (ioredis' commandTimeout would arm one per command).
  function timely<T>(work: Promise<T>, ms = timeoutMs): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`redis did not answer within ${ms} ms`)), ms);
    });
    // The losing side of the race must not become an unhandled rejection.
    work.catch(() => {});
    return Promise.race([work, late]).finally(() => clearTimeout(timer));
  }

  async function execOrThrow(pipeline: Pipeline, ms = timeoutMs): Promise<unknown[]> {
    const results = (await timely(pipeline.exec(), ms)) ?? [];
    const failed = results.find(([err]) => err !== null);
    if (failed) throw failed[0];
    return results.map(([, value]) => value);
  }

  async function windowsFromPostgres(q: FeatureQuery) {
    const at = q.at.getTime();
    const since = (ms: number) => new Date(at - ms);
    const { rows } = await db.query<{ high: number; suspicious: number; duplicates: number }>(
      `SELECT count(*) FILTER (WHERE occurred_at > $3)::int AS high,
              count(*) FILTER (WHERE occurred_at > $4)::int AS suspicious,
              count(*) FILTER (WHERE occurred_at > $5 AND signature = $6)::int AS duplicates
         FROM user_transactions
        WHERE user_id = $1 AND occurred_at <= $2 AND occurred_at > $7 AND transaction_id <> $8`,
      [
        q.userId,
        q.at,
        since(q.highVelocityMs),
        since(q.suspiciousVelocityMs),
        since(q.duplicateMs),
        q.signature,
        since(Math.max(q.highVelocityMs, q.suspiciousVelocityMs, q.duplicateMs)),
        q.transactionId,
      ],
    );
    const row = rows[0];
    return { high: row?.high ?? 0, suspicious: row?.suspicious ?? 0, duplicates: row?.duplicates ?? 0 };
  }

  type Windows = Awaited<ReturnType<typeof windowsFromPostgres>>;

  /** The windows from Redis, or why Postgres must answer instead: Redis failed, or its windows have a gap. */
  async function windowsFromRedis(q: FeatureQuery): Promise<Windows | "stale" | "error"> {
    const at = q.at.getTime();
    const vel = velocityKey(q.userId);
    const dup = duplicateKey(q.userId, q.signature);
    const pipeline = redis.pipeline();
    const pending = withPendingStale(pipeline);
    pipeline
      .zcount(vel, `(${at - q.highVelocityMs}`, at)
      .zcount(vel, `(${at - q.suspiciousVelocityMs}`, at)
      .zscore(vel, q.transactionId)
      .zcount(dup, `(${at - q.duplicateMs}`, at)
      .zscore(dup, q.transactionId)
      .get(staleKey)
      .exists(epochKey);
    let values: unknown[];
    try {
      values = await execOrThrow(pipeline);
    } catch (err) {
      redisFailed(err, "read");
      return "error";
    }
    redisOk();
    settled(pending);
    const [high, suspicious, selfVel, duplicates, selfDup, staleUntil, epoch] = values.slice(pending ? 1 : 0);
    if (epoch === 0) {
      // Redis lost its data: everything before now may be missing from the windows.
      raiseStale(Math.max(at, clock.now().getTime()) + q.longestMs, q.longestMs);
      await markEpoch();
      return "stale";
    }
    if (staleUntil !== null && Number(staleUntil) > at) return "stale";
    // The scored transaction's own event may have arrived first; it is counted once, as "+1", by scoring.
    const own = (score: unknown, windowMs: number) => {
      if (score === null) return 0;
      const s = Number(score);
      return s > at - windowMs && s <= at ? 1 : 0;
    };
    return {
      high: Number(high) - own(selfVel, q.highVelocityMs),
      suspicious: Number(suspicious) - own(selfVel, q.suspiciousVelocityMs),
      duplicates: Number(duplicates) - own(selfDup, q.duplicateMs),
    };
  }

  // The full days end before the transaction's day, so a user's totals only change when an event of a past day
  // arrives late: they are kept in memory for historyCacheTtlMs, and the oldest go first past historyCacheSize.
  const historyCache = new Map<string, { value: Features["history"]; expiresAt: number }>();
  type HistoryKey = { userId: string; from: string; to: string };
  const keyOf = (k: HistoryKey) => `${k.userId}|${k.from}|${k.to}`;

  // Users missing from the cache at the same time are read together, one statement per lookback range.
  const historyLoader = createBatcher<HistoryKey, Features["history"]>({
    ...BATCHING,
    keyOf,
    flush: async (keys) => {
      const ranges = new Map<string, HistoryKey[]>();
      for (const k of keys) {
        const range = `${k.from}|${k.to}`;
        ranges.set(range, [...(ranges.get(range) ?? []), k]);
      }
      const found = new Map<string, Features["history"]>();
      await Promise.all(
        [...ranges.values()].map(async (group) => {
          const [{ from, to } = { from: "", to: "" }] = group;
          const { rows } = await db.query<{ user_id: string; count: number; total: bigint }>(
            `SELECT user_id, sum(tx_count)::int AS count, sum(base_total_minor)::bigint AS total
               FROM user_daily_totals WHERE user_id = ANY($1::text[]) AND day >= $2::date AND day < $3::date
              GROUP BY user_id`,
            [group.map((k) => k.userId), from, to],
          );
          for (const r of rows)
            found.set(keyOf({ userId: r.user_id, from, to }), { count: r.count, totalMinor: r.total });
        }),
      );
      return keys.map((k) => found.get(keyOf(k)) ?? { count: 0, totalMinor: 0n });
    },
  });

  // The day of the transaction up to it, from the transaction rows (kept longer than a day): a user's history
  // of the same day counts too, so a new user's first large purchase after small ones is compared with them.
  // Concurrent scores share one statement, as the full days do. The same statement says whether the transaction
  // has a score already (a caller's retry), which scoring would otherwise ask Postgres in a statement of its own.
  type TodayKey = { userId: string; at: Date; transactionId: string };
  type Today = { history: Features["history"]; scored: boolean };
  const todayLoader = createBatcher<TodayKey, Today>({
    ...BATCHING,
    keyOf: (k) => `${k.userId}|${k.at.getTime()}|${k.transactionId}`,
    flush: async (keys) => {
      const { rows } = await db.query<{ i: string; count: number; total: bigint; scored: boolean }>(
        `SELECT q.i::text AS i, count(t.transaction_id)::int AS count,
                coalesce(sum(t.base_amount_minor), 0)::bigint AS total,
                EXISTS (SELECT 1 FROM scores s WHERE s.transaction_id = q.tx) AS scored
           FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[], $4::text[])
                  WITH ORDINALITY AS q(user_id, since, until, tx, i)
           LEFT JOIN user_transactions t
             ON t.user_id = q.user_id AND t.occurred_at >= q.since AND t.occurred_at <= q.until
            AND t.transaction_id <> q.tx AND t.base_amount_minor IS NOT NULL
          GROUP BY q.i, q.tx`,
        [
          keys.map((k) => k.userId),
          keys.map((k) => new Date(`${utcDay(k.at)}T00:00:00Z`)),
          keys.map((k) => k.at),
          keys.map((k) => k.transactionId),
        ],
      );
      const byIndex = new Map(
        rows.map((r) => [
          Number(r.i),
          { history: { count: r.count, totalMinor: r.total }, scored: r.scored },
        ]),
      );
      return keys.map(
        (_, i) => byIndex.get(i + 1) ?? { history: { count: 0, totalMinor: 0n }, scored: false },
      );
    },
  });

  const today = (q: FeatureQuery): Promise<Today> =>
    todayLoader.submit({ userId: q.userId, at: q.at, transactionId: q.transactionId });

  async function pastDays(q: FeatureQuery): Promise<Features["history"]> {
    const k = { userId: q.userId, from: utcDay(q.at, -q.lookbackDays), to: utcDay(q.at) };
    const key = keyOf(k);
    const now = Date.now();
    const cached = historyCache.get(key);
    if (cached && cached.expiresAt > now) return cached.value;
    const value = await historyLoader.submit(k);
    if (historyCacheTtlMs > 0) {
      historyCache.delete(key); // re-inserted last, so insertion order stays oldest first
      historyCache.set(key, { value, expiresAt: now + historyCacheTtlMs });
      if (historyCache.size > historyCacheSize) {
        const oldest = historyCache.keys().next();
        if (!oldest.done) historyCache.delete(oldest.value);
      }
    }
    return value;
  }

  async function history(q: FeatureQuery): Promise<{ history: Features["history"]; scored: boolean }> {
    const [past, sameDay] = await Promise.all([pastDays(q), today(q)]);
    const { count, totalMinor } = sameDay.history;
    return {
      history: { count: past.count + count, totalMinor: past.totalMinor + totalMinor },
      scored: sameDay.scored,
    };
  }

  async function markEpoch(): Promise<void> {
    try {
      await timely(redis.set(epochKey, clock.now().toISOString(), "NX"));
    } catch (err) {
      redisFailed(err, "write");
    }
  }

  return {
    /**
     * Sets the epoch key if it is missing (start-up), so a later loss of Redis data can be told apart.
     * A Redis that is down is only logged.
     */
    markEpoch,

    /**
     * Records transactions: their rows and their days' totals in Postgres through `tx` (the inbox transaction),
     * in one statement, then their window entries in Redis, in one round trip. A transaction recorded before
     * (or twice among `ts`) changes nothing. A Redis failure is logged and counted, never thrown: Postgres has
     * the events, and the stale marker covers the gap.
     * @param retentionMs how far back Redis windows are kept (the rule set's longest window).
     */
    async record(tx: Queryable, ts: readonly ObservedTransaction[], retentionMs: number): Promise<void> {
      if (ts.length === 0) return;
      // Days in one order, so that two such statements (two replicas) do not deadlock on them.
      await tx.query(
        `WITH t AS (
           SELECT DISTINCT ON (transaction_id) *
             FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::bigint[])
               AS t(transaction_id, user_id, occurred_at, signature, base_amount_minor)
            ORDER BY transaction_id),
         ins AS (
           INSERT INTO user_transactions (transaction_id, user_id, occurred_at, signature, base_amount_minor)
           SELECT transaction_id, user_id, occurred_at, signature, base_amount_minor FROM t
           ON CONFLICT (transaction_id) DO NOTHING
           RETURNING user_id, occurred_at, base_amount_minor)
         INSERT INTO user_daily_totals AS d (user_id, day, tx_count, base_total_minor)
         SELECT user_id, (occurred_at AT TIME ZONE 'UTC')::date, count(*), sum(base_amount_minor)
           FROM ins WHERE base_amount_minor IS NOT NULL
          GROUP BY 1, 2 ORDER BY 1, 2
         ON CONFLICT (user_id, day) DO UPDATE
           SET tx_count = d.tx_count + EXCLUDED.tx_count,
               base_total_minor = d.base_total_minor + EXCLUDED.base_total_minor`,
        [
          ts.map((t) => t.transactionId),
          ts.map((t) => t.userId),
          ts.map((t) => t.occurredAt),
          ts.map((t) => t.signature),
          ts.map((t) => t.baseAmountMinor ?? null),
        ],
      );
      const pipeline = redis.pipeline();
      const pending = withPendingStale(pipeline);
      let latest = 0;
      for (const t of ts) {
        const at = t.occurredAt.getTime();
        latest = Math.max(latest, at);
        const vel = velocityKey(t.userId);
        const dup = duplicateKey(t.userId, t.signature);
        pipeline
          .zadd(vel, at, t.transactionId)
          .zremrangebyscore(vel, "-inf", at - retentionMs)
          .pexpire(vel, retentionMs)
          .zadd(dup, at, t.transactionId)
          .zremrangebyscore(dup, "-inf", at - retentionMs)
          .pexpire(dup, retentionMs);
      }
      try {
        await execOrThrow(pipeline, writeTimeoutMs);
        redisOk();
        settled(pending);
      } catch (err) {
        redisFailed(err, "write");
        raiseStale(latest + retentionMs, retentionMs);
      }
    },

    /**
     * The user's features at `q.at`, the scored transaction itself left out of every count: windows from
     * Redis (or Postgres when Redis fails or is incomplete), the lookback totals from Postgres: the full days before
     * the transaction's day and that day up to the transaction; and whether the transaction has a score already.
     */
    async read(q: FeatureQuery): Promise<Features & { source: FeatureSource; scored: boolean }> {
      const [fromRedis, { history: past, scored }] = await Promise.all([windowsFromRedis(q), history(q)]);
      let windows: Windows;
      let source: FeatureSource = "redis";
      if (typeof fromRedis === "string") {
        metrics.featureFallback.inc({ reason: fromRedis === "error" ? "redis_error" : "redis_stale" });
        windows = await windowsFromPostgres(q);
        source = "postgres";
      } else {
        windows = fromRedis;
      }
      return {
        highVelocityPrior: windows.high,
        suspiciousVelocityPrior: windows.suspicious,
        duplicatesPrior: windows.duplicates,
        history: past,
        source,
        scored,
      };
    },

    /**
     * Deletes transaction rows older than `before` and daily totals older than `dayBefore`, 10,000 rows per
     * statement (short locks), until none is left.
     * @returns rows deleted.
     */
    async prune(db: Queryable, before: Date, dayBefore: Date): Promise<number> {
      const batch = 10_000;
      const statements = [
        {
          sql: `DELETE FROM user_transactions WHERE transaction_id IN (
                  SELECT transaction_id FROM user_transactions WHERE occurred_at < $1 LIMIT $2)`,
          bound: before,
        },
        {
          sql: `DELETE FROM user_daily_totals WHERE (user_id, day) IN (
                  SELECT user_id, day FROM user_daily_totals WHERE day < $1::date LIMIT $2)`,
          bound: utcDay(dayBefore),
        },
      ];
      let deleted = 0;
      for (const { sql, bound } of statements) {
        for (;;) {
          const { rowCount } = await db.query(sql, [bound, batch]);
          deleted += rowCount ?? 0;
          if ((rowCount ?? 0) < batch) break;
        }
      }
      return deleted;
    },
  };
}

export type FeatureStore = ReturnType<typeof createFeatureStore>;
