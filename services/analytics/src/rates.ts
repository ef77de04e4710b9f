import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Decimal } from "@fintech/money";
import { invertRate, parseRate } from "@fintech/money";
import type { FxService } from "@fintech/proto/fintech/fx/v1/fx_pb.js";

/** Where an import finds what one unit of a currency is worth in the base currency. */
export interface RateSource {
  /** 1 `currency` = rate base currency; undefined when there is no rate (the currency is not supported). */
  rateToBase(currency: string): Promise<Decimal | undefined>;
  /**
   * The rate in effect at the end of a UTC day (YYYY-MM-DD): the last one set by then, else the earliest known;
   * undefined when there is none. Sources without a history leave it out (the current rate stands in).
   */
  rateToBaseOn?(currency: string, day: string): Promise<Decimal | undefined>;
}

/** Fixed rates ("SGD/MYR=3.50"), each usable in either direction. */
export function staticRates(
  rates: ReadonlyArray<{ base: string; quote: string; rate: Decimal }>,
  baseCurrency: string,
): RateSource {
  const source: RateSource = {
    rateToBaseOn: (currency) => source.rateToBase(currency),
    async rateToBase(currency) {
      for (const r of rates) {
        if (r.base === currency && r.quote === baseCurrency) return r.rate;
        if (r.quote === currency && r.base === baseCurrency) return invertRate(r.rate);
      }
      return undefined;
    },
  };
  return source;
}

/** How long a pair's rate history from fx is reused for analytics answers, in ms. */
const HISTORY_TTL_MS = 60_000;
/** Most history entries read per pair (pages of 100). */
const HISTORY_MAX = 1000;

/**
 * Rates from the fx service: its current mid rate (asked once per currency per import), and per day from the
 * history of the pair as set (either direction), reused for a minute.
 */
export function fxRates(client: Client<typeof FxService>, baseCurrency: string): RateSource {
  const histories = new Map<string, { at: number; entries: Promise<Array<{ ms: number; rate: Decimal }>> }>();

  /** The pair's history, oldest first, as 1 currency = rate base. */
  async function readHistory(currency: string): Promise<Array<{ ms: number; rate: Decimal }>> {
    for (const [base, quote, inverse] of [
      [currency, baseCurrency, false],
      [baseCurrency, currency, true],
    ] as const) {
      const out: Array<{ ms: number; rate: Decimal }> = [];
      let cursor = "";
      do {
        const page = await client.listRateHistory({ base, quote, limit: 100, cursor });
        for (const r of page.data) {
          const rate = parseRate(r.rate);
          out.push({
            ms: r.updatedAt ? timestampMs(r.updatedAt) : 0,
            rate: inverse ? invertRate(rate) : rate,
          });
        }
        cursor = page.hasMore ? page.nextCursor : "";
      } while (cursor !== "" && out.length < HISTORY_MAX);
      if (out.length > 0) return out.sort((a, b) => a.ms - b.ms);
    }
    return [];
  }

  const source: RateSource = {
    async rateToBaseOn(currency, day) {
      const now = Date.now();
      let h = histories.get(currency);
      if (h === undefined || now - h.at > HISTORY_TTL_MS) {
        h = { at: now, entries: readHistory(currency) };
        histories.set(currency, h);
        h.entries.catch(() => histories.delete(currency));
      }
      const entries = await h.entries;
      // A cross rate (no pair set with the base) has no history of its own: the current rate stands in.
      if (entries.length === 0) return source.rateToBase(currency);
      const endOfDay = Date.parse(`${day}T00:00:00Z`) + 86_400_000;
      let found = entries[0]?.rate;
      for (const e of entries) {
        if (e.ms >= endOfDay) break;
        found = e.rate;
      }
      return found;
    },
    async rateToBase(currency) {
      try {
        const res = await client.getRate({ base: currency, quote: baseCurrency });
        return res.rate === undefined ? undefined : parseRate(res.rate.rate);
      } catch (err) {
        // Unsupported currency or no rate: the rows in it are bad rows, not a failed import.
        if (
          err instanceof ConnectError &&
          (err.code === Code.FailedPrecondition || err.code === Code.InvalidArgument)
        ) {
          return undefined;
        }
        if (err instanceof ConnectError && err.code === Code.Unauthenticated) {
          throw new Error(
            "fx refused the rate request: set SERVICE_CLIENT_SECRET (or fixed ANALYTICS_IMPORT_RATES)",
            { cause: err },
          );
        }
        throw err;
      }
    },
  };
  return source;
}
