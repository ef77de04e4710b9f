import type { Decimal } from "@fintech/money";
import { findCurrency, invertRate } from "@fintech/money";
import type { Clock } from "@fintech/platform";
import { localDay } from "@fintech/platform";
import type pg from "pg";
import { PLATFORM_TYPES } from "./counter-fields.js";
import type { Counters } from "./counters.js";
import { FRAUD_SCOPE, PLATFORM_SCOPE, userScope } from "./counters.js";
import { addDays, addMonths, dayNumber, utcDate } from "./dates.js";
import { readDays } from "./day-reader.js";
import { AnalyticsError } from "./errors.js";
import type { HotStore } from "./hot-store.js";
import { platformTypeOf } from "./import-rows.js";
import type { RateSource } from "./rates.js";
import type { CurrencyView } from "./reports/flow.js";
import type { FraudResult } from "./reports/fraud.js";
import { fraudReport } from "./reports/fraud.js";
import type { SpendingResult } from "./reports/spending.js";
import { spendingReport } from "./reports/spending.js";
import type { StatsResult } from "./reports/stats.js";
import { statsReport } from "./reports/stats.js";
import type { SummaryResult } from "./reports/summary.js";
import { summaryReport } from "./reports/summary.js";
import type { Granularity, TimeSeriesResult } from "./reports/time-series.js";
import { periodCount, timeSeriesReport, timeSeriesSpan } from "./reports/time-series.js";
import type { UserDirectory, UserProfile } from "./user-directory.js";

/** Settings of {@link createAnalyticsService}. */
export interface AnalyticsSettings {
  baseCurrency: string;
  /** How long a query answer is cached, in milliseconds; 0 turns the cache off. */
  cacheTtlMs: number;
}

/** Most days a range can span for platform and fraud statistics. */
export const MAX_STATS_DAYS = 366;
/** Most points a time series can have. */
export const MAX_POINTS = 1000;
/** Ranges up to this many days are cached under per-day versions; longer ones under the scope's version. */
const PER_DAY_TOKEN_DAYS = 400;

/**
 * The analytics queries: hot and cold counters merged per day (day-reader.ts), turned into answers (reports/,
 * one file per answer) and cached in Redis under the versions of the days they read. Every counted event bumps
 * its day's and its scope's version in the same Lua script that counts it, so a cached answer is served only
 * while no event has landed on a day it covers, and the token also holds the hot store's generation, so no
 * answer cached before a rebuild of Redis is served after it.
 */
export function createAnalyticsService(deps: {
  pool: pg.Pool;
  hot: HotStore;
  clock: Clock;
  /** Each day's rate, for answering in a user's default currency. */
  rates: RateSource;
  /** Users' time zones and default currencies. */
  users: UserDirectory;
  settings: AnalyticsSettings;
}) {
  const { pool, hot, clock, rates, users, settings } = deps;
  const base = settings.baseCurrency;

  /** The user's time zone and default currency; UTC and the base currency when unknown. */
  async function profileOf(userId: string): Promise<UserProfile> {
    const p = await users.profile?.(userId);
    return {
      timezone: p?.timezone || "UTC",
      defaultCurrency:
        p !== undefined && findCurrency(p.defaultCurrency) !== undefined ? p.defaultCurrency : base,
    };
  }

  /**
   * The currency view of a user's query: `currency` given, only that currency's transactions in it; else every
   * transaction in the user's default currency (base amounts converted at each day's rate; the base totals
   * stay in the base currency).
   */
  function view(currency: string | undefined, profile: UserProfile): CurrencyView {
    if (currency !== undefined && currency !== "") return { currency, filter: currency };
    return { currency: profile.defaultCurrency, filter: undefined, baseCurrency: base };
  }

  /** A view's part of a cache key: the filter, and the currency when it is converted to another than the base. */
  const viewKey = (v: CurrencyView): string =>
    v.filter === undefined && v.currency !== base ? `:${v.currency}` : (v.filter ?? "");

  /** Fills in the day rates a converting view needs for `days` (1 base unit = rate view currency). */
  async function withRates(v: CurrencyView, days: Map<string, Counters>): Promise<CurrencyView> {
    if (v.filter !== undefined || v.currency === base) return v;
    const dayRates = new Map<string, Decimal>();
    for (const day of days.keys()) {
      const rate = await (rates.rateToBaseOn?.(v.currency, day) ?? rates.rateToBase(v.currency));
      if (rate === undefined) {
        throw new AnalyticsError("VALIDATION_ERROR", `no rate from ${v.currency} to ${base}`, {
          field: "currency",
        });
      }
      dayRates.set(day, invertRate(rate));
    }
    return { ...v, dayRates };
  }

  function daysOf(from: string, to: string): string[] {
    const out: string[] = [];
    for (let d = from; d <= to; d = addDays(d, 1)) out.push(d);
    return out;
  }

  function tokenDays(from: string | undefined, to: string | undefined): string[] {
    if (from === undefined || to === undefined || dayNumber(to) - dayNumber(from) >= PER_DAY_TOKEN_DAYS) {
      return ["*"];
    }
    return daysOf(from, to);
  }

  async function cached<T>(
    scope: string,
    name: string,
    days: string[],
    compute: () => Promise<T>,
  ): Promise<T> {
    if (settings.cacheTtlMs <= 0) return compute();
    // The token is read before computing: an event landing meanwhile leaves an answer under the old token,
    // which the next read sees as stale.
    const found = await hot.cached(scope, name, days);
    // No marker: Redis lost this scope's bucket; answers come from Postgres until the rebuild, uncached.
    if (found === undefined) return compute();
    const { token, value } = found;
    if (value !== null) {
      const entry = JSON.parse(value) as { t: string; r: T };
      if (entry.t === token) return entry.r;
    }
    const result = await compute();
    await hot.cache(scope, name, JSON.stringify({ t: token, r: result }), settings.cacheTtlMs);
    return result;
  }

  function statsRange(fromDate: string, toDate: string): { from: string; to: string } {
    const to = toDate || utcDate(clock.now().getTime());
    const from = fromDate || addDays(to, -29);
    if (from > to) throw invalid("from_date", "must not be after to_date");
    if (dayNumber(to) - dayNumber(from) + 1 > MAX_STATS_DAYS) {
      throw invalid("to_date", `the range must span at most ${MAX_STATS_DAYS} days`);
    }
    return { from, to };
  }

  return {
    /** A user's spending per category between two days (inclusive; undefined: unbounded). */
    async spending(
      userId: string,
      q: { startDate?: string; endDate?: string; currency?: string },
    ): Promise<SpendingResult> {
      const from = q.startDate || undefined;
      const to = q.endDate || undefined;
      if (from !== undefined && to !== undefined && from > to)
        throw invalid("start_date", "must not be after end_date");
      const scope = userScope(userId);
      const v = view(q.currency, await profileOf(userId));
      return cached(
        scope,
        `spending:${from ?? ""}:${to ?? ""}:${viewKey(v)}`,
        tokenDays(from, to),
        async () => {
          const days = await readDays(pool, hot, scope, from, to);
          return spendingReport(
            days,
            await withRates(v, days),
            { startDate: from ?? "", endDate: to ?? "" },
            base,
          );
        },
      );
    },

    /** A user's net spending per day, week or month; every period of the range is present. */
    async timeSeries(
      userId: string,
      q: { granularity: Granularity; startDate?: string; endDate?: string; currency?: string },
    ): Promise<TimeSeriesResult> {
      const { granularity } = q;
      const profile = await profileOf(userId);
      // A user's days are in their own time zone: "today" is theirs, not UTC's.
      const end = q.endDate || localDay(clock.now(), profile.timezone);
      const start =
        q.startDate ||
        (granularity === "day"
          ? addDays(end, -29)
          : granularity === "week"
            ? addDays(end, -77)
            : addMonths(end, -11));
      if (start > end) throw invalid("start_date", "must not be after end_date");
      if (periodCount(start, end, granularity) > MAX_POINTS) {
        throw invalid("start_date", `the range must hold at most ${MAX_POINTS} ${granularity}s`);
      }
      const [from, to] = timeSeriesSpan(start, end, granularity);
      const scope = userScope(userId);
      const v = view(q.currency, profile);
      return cached(
        scope,
        `series:${granularity}:${start}:${end}:${viewKey(v)}`,
        tokenDays(from, to),
        async () => {
          const days = await readDays(pool, hot, scope, from, to);
          return timeSeriesReport(
            days,
            await withRates(v, days),
            { startDate: start, endDate: end, granularity },
            base,
          );
        },
      );
    },

    /** A user's all-time summary. */
    async summary(userId: string, q: { currency?: string }): Promise<SummaryResult> {
      const scope = userScope(userId);
      const v = view(q.currency, await profileOf(userId));
      return cached(scope, `summary:${viewKey(v)}`, ["*"], async () => {
        const days = await readDays(pool, hot, scope);
        return summaryReport(days, await withRates(v, days));
      });
    },

    /**
     * Platform totals per UTC day, type and provider, and per day x type x provider; default the last 30 days.
     * `type` (a platform type or an import's type word) and `provider` (any case) keep only those transactions.
     */
    async stats(q: {
      fromDate: string;
      toDate: string;
      type?: string;
      provider?: string;
    }): Promise<StatsResult> {
      const { from, to } = statsRange(q.fromDate, q.toDate);
      const type = q.type ? platformTypeOf(q.type) : undefined;
      if (q.type && type === undefined) throw invalid("type", `must be one of ${PLATFORM_TYPES.join(", ")}`);
      const provider = q.provider ? q.provider.trim().toLowerCase() : undefined;
      return cached(
        PLATFORM_SCOPE,
        `stats:${from}:${to}:${type ?? ""}:${provider ?? ""}`,
        daysOf(from, to),
        async () =>
          statsReport(
            await readDays(pool, hot, PLATFORM_SCOPE, from, to),
            { fromDate: from, toDate: to },
            base,
            { type, provider },
          ),
      );
    },

    /** Fraud statistics per UTC day; default the last 30 days. */
    async fraudStats(q: { fromDate: string; toDate: string }): Promise<FraudResult> {
      const { from, to } = statsRange(q.fromDate, q.toDate);
      return cached(FRAUD_SCOPE, `fraud:${from}:${to}`, daysOf(from, to), async () =>
        fraudReport(await readDays(pool, hot, FRAUD_SCOPE, from, to), { fromDate: from, toDate: to }, base),
      );
    },
  };
}

export type AnalyticsService = ReturnType<typeof createAnalyticsService>;

function invalid(field: string, message: string): AnalyticsError {
  return new AnalyticsError("VALIDATION_ERROR", `${field} ${message}`, { field });
}
