import type { Client } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Decimal } from "@fintech/money";
import { invertRate, parseRate } from "@fintech/money";
import type { FxService } from "@fintech/proto/fintech/fx/v1/fx_pb.js";

/** Where an import finds what one unit of a currency is worth in the base currency. */
export interface RateSource {
  /** 1 `currency` = rate base currency; undefined when there is no rate (the currency is not supported). */
  rateToBase(currency: string): Promise<Decimal | undefined>;
}

/** Fixed rates ("SGD/MYR=3.50"), each usable in either direction. */
export function staticRates(
  rates: ReadonlyArray<{ base: string; quote: string; rate: Decimal }>,
  baseCurrency: string,
): RateSource {
  return {
    async rateToBase(currency) {
      for (const r of rates) {
        if (r.base === currency && r.quote === baseCurrency) return r.rate;
        if (r.quote === currency && r.base === baseCurrency) return invertRate(r.rate);
      }
      return undefined;
    },
  };
}

/** Rates from the fx service (its current mid rate), asked once per currency per import. */
export function fxRates(client: Client<typeof FxService>, baseCurrency: string): RateSource {
  return {
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
}

/** Parses "SGD/MYR=3.50,USD/MYR=4.70"; throws a message naming the bad item. */
export function parseRateList(text: string): Array<{ base: string; quote: string; rate: Decimal }> {
  const out: Array<{ base: string; quote: string; rate: Decimal }> = [];
  for (const item of text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([A-Z]{3})\/([A-Z]{3})=([0-9.]+)$/.exec(item);
    if (m === null || m[1] === m[2]) {
      throw new Error(`expected BASE/QUOTE=RATE items such as SGD/MYR=3.50, got "${item}"`);
    }
    out.push({ base: m[1] ?? "", quote: m[2] ?? "", rate: parseRate(m[3] ?? "") });
  }
  return out;
}
