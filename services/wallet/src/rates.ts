import type { Client } from "@connectrpc/connect";
import { ConnectError } from "@connectrpc/connect";
import { formatAmount, parseAmount } from "@fintech/money";
import { errorInfoOf } from "@fintech/platform";
import type { FxService } from "@fintech/proto/fintech/fx/v1/fx_pb.js";
import { WalletError } from "./errors.js";

// What the wallet asks fx: which currencies the platform supports, conversions at the current mid rate
// (limits, base amounts, purchases charged in another currency, totals) and quotes (conversions, transfers
// across currencies).

export interface Converted {
  /** Minor units of the target currency, rounded half-even. */
  amount: bigint;
  /** 1 from = rate to, as fx printed it. */
  rate: string;
}

export interface Quote {
  id: string;
  rate: string;
  toAmount: bigint;
  /** What the spread earns, in the target currency. */
  spread: bigint;
}

export function createRates(deps: { fx: Client<typeof FxService>; cacheTtlMs: number }) {
  const { fx, cacheTtlMs } = deps;
  let supported: { codes: Set<string>; at: number } | undefined;
  let loading: Promise<Set<string>> | undefined;

  async function currencies(): Promise<Set<string>> {
    if (supported !== undefined && Date.now() - supported.at < cacheTtlMs) return supported.codes;
    loading ??= fx
      .listCurrencies({})
      .then((r) => {
        const codes = new Set(r.data.map((c) => c.code));
        supported = { codes, at: Date.now() };
        return codes;
      })
      .finally(() => {
        loading = undefined;
      });
    return loading;
  }

  /** Maps fx's refusals of a currency to the wallet's. */
  function refusal(err: unknown, field: string): never {
    const reason = err instanceof ConnectError ? errorInfoOf(err)?.reason : undefined;
    if (reason === "CURRENCY_NOT_SUPPORTED" || reason === "RATE_NOT_AVAILABLE") {
      throw new WalletError("CURRENCY_NOT_SUPPORTED", "no rate for this currency", { field }, { cause: err });
    }
    if (reason === "AMOUNT_TOO_SMALL") {
      throw new WalletError(
        "VALIDATION_ERROR",
        "the amount converts to less than the smallest unit",
        { field: "amount" },
        { cause: err },
      );
    }
    throw err;
  }

  return {
    /** Refuses (CURRENCY_NOT_SUPPORTED, naming `field`) a currency fx does not list. */
    async requireSupported(code: string, field: string): Promise<void> {
      if (!(await currencies()).has(code)) {
        throw new WalletError("CURRENCY_NOT_SUPPORTED", `${code} is not supported`, {
          currency: code,
          field,
        });
      }
    },

    /** `amount` of `from` in `to` at the current mid rate. */
    async convert(amount: bigint, from: string, to: string, field = "currency"): Promise<Converted> {
      if (from === to) return { amount, rate: "" };
      try {
        const r = await fx.convert({
          fromCurrency: from,
          toCurrency: to,
          amount: formatAmount(amount, from),
        });
        return { amount: parseAmount(r.toAmount, to), rate: r.rate };
      } catch (err) {
        return refusal(err, field);
      }
    },

    /**
     * A quote locking today's rate (less the spread) for `amount` of `from` into `to`, made for `userId` so
     * that they (and no one else) may read it at fx.
     */
    async quote(amount: bigint, from: string, to: string, field: string, userId: string): Promise<Quote> {
      try {
        const { quote } = await fx.createQuote({
          fromCurrency: from,
          toCurrency: to,
          amount: formatAmount(amount, from),
          forUserId: userId,
        });
        if (quote === undefined) throw new Error("fx returned no quote");
        return {
          id: quote.quoteId,
          rate: quote.rate,
          toAmount: parseAmount(quote.toAmount, to),
          spread: quote.spreadAmount === "" ? 0n : parseAmount(quote.spreadAmount, to),
        };
      } catch (err) {
        return refusal(err, field);
      }
    },
  };
}

export type Rates = ReturnType<typeof createRates>;
