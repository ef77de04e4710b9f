import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { AuditOrigin } from "@fintech/auth";
import { auditEvent } from "@fintech/auth";
import { withTransaction } from "@fintech/db";
import { enqueue } from "@fintech/events";
import type { CurrencyInfo, Decimal } from "@fintech/money";
import { convertAmount, currency, formatRate, invertRate, MAX_MINOR, parseRate } from "@fintech/money";
import type { Clock } from "@fintech/platform";
import { cursorParts, pageCursor, takePage } from "@fintech/platform";
import { RateUpdatedSchema } from "@fintech/proto/fintech/fx/v1/events_pb.js";
import type pg from "pg";
import { FxError } from "./errors.js";
import type { ResolvedRate, StoredRate } from "./rate-book.js";
import { RateBook } from "./rate-book.js";
import type { QuoteRow } from "./store.js";
import { store } from "./store.js";

export interface FxSettings {
  /** The currency cross rates go through (the platform's base currency). */
  pivot: string;
  /** How long a quote holds its rate, in milliseconds. */
  quoteTtlMs: number;
  /** The spread taken on quotes, in basis points of the mid rate. */
  spreadBps: number;
  /** How long a replica serves rates from memory before it reloads them, in milliseconds. */
  rateCacheTtlMs: number;
}

export type QuoteStatus = "open" | "redeemed" | "expired";
export type Quote = QuoteRow & { status: QuoteStatus };

export interface RateHistoryPage {
  data: StoredRate[];
  nextCursor: string | undefined;
}

const BPS = 10_000;

/**
 * The fx domain: rates, cross rates, quotes. Amounts are bigint minor units; currency codes are upper-case
 * ISO 4217 codes and the two sides of a pair differ (validation.ts checks both at the RPC edge).
 */
export function createFxService(deps: { pool: pg.Pool; clock: Clock; settings: FxSettings }) {
  const { pool, clock, settings } = deps;
  let book: RateBook | undefined;
  let loadedAt = 0;
  let loading: Promise<RateBook> | undefined;
  let generation = 0;

  // Rates are few and read on every call: serve them from memory, reloading at most once per TTL
  // (single flight) so another replica's change is seen within rateCacheTtlMs.
  async function rateBook(): Promise<RateBook> {
    if (book && Date.now() - loadedAt < settings.rateCacheTtlMs) return book;
    loading ??= reload().finally(() => {
      loading = undefined;
    });
    return loading;
  }

  async function reload(): Promise<RateBook> {
    const mine = ++generation;
    const next = new RateBook(settings.pivot, await store.loadRates(pool));
    // A load that started before a newer one (say, before this replica's own rate change) must not
    // replace the newer snapshot when it finishes last.
    if (mine === generation) {
      book = next;
      loadedAt = Date.now();
    }
    return next;
  }

  function supported(b: RateBook, code: string, field: string): void {
    if (!b.has(code)) {
      throw new FxError("CURRENCY_NOT_SUPPORTED", `${code} is not supported`, { currency: code, field });
    }
  }

  async function resolve(
    base: string,
    quote: string,
    fields: [string, string] = ["base", "quote"],
  ): Promise<ResolvedRate> {
    const b = await rateBook();
    supported(b, base, fields[0]);
    supported(b, quote, fields[1]);
    const rate = b.resolve(base, quote);
    if (!rate) throw new FxError("RATE_NOT_AVAILABLE", `no rate from ${base} to ${quote}`, { base, quote });
    return rate;
  }

  function withStatus(q: QuoteRow): Quote {
    const status: QuoteStatus = q.redeemedAt ? "redeemed" : clock.now() >= q.expiresAt ? "expired" : "open";
    return { ...q, status };
  }

  return {
    async listCurrencies(): Promise<CurrencyInfo[]> {
      const b = await rateBook();
      return [...b.currencies].sort().map((code) => currency(code));
    },

    async listRates(base: string): Promise<ResolvedRate[]> {
      const b = await rateBook();
      supported(b, base, "base");
      return [...b.currencies]
        .filter((c) => c !== base)
        .sort()
        .flatMap((c) => b.resolve(base, c) ?? []);
    },

    async getRate(base: string, quote: string): Promise<ResolvedRate> {
      return resolve(base, quote);
    },

    async rateHistory(base: string, quote: string, limit: number, cursor?: string): Promise<RateHistoryPage> {
      const beforeId = cursor === undefined ? undefined : historyCursor.decode(cursor).id;
      const rows = await store.rateHistory(pool, base, quote, { limit: limit + 1, beforeId });
      const { items, nextPageToken } = takePage(rows, limit, (last) => historyCursor.encode(last));
      return { data: items, nextCursor: nextPageToken };
    },

    /**
     * Sets 1 base = rate quote; the pair's other direction is replaced. Publishes fx.rate.updated and, when an
     * admin set it (`origin`), its audit entry.
     */
    async setRate(
      base: string,
      quote: string,
      rate: Decimal,
      source: string,
      origin?: AuditOrigin,
    ): Promise<ResolvedRate> {
      const next: StoredRate = { base, quote, rate, source, updatedAt: clock.now() };
      await withTransaction(pool, async (tx) => {
        const previous = await store.lockPair(tx, base, quote);
        await store.setRate(tx, next);
        await enqueue(tx, {
          type: "fx.rate.updated",
          schema: RateUpdatedSchema,
          message: create(RateUpdatedSchema, {
            base,
            quote,
            rate: formatRate(rate),
            previousRate: previous ? formatRate(previousIn(previous, base)) : "",
            source,
            effectiveAt: timestampFromDate(next.updatedAt),
          }),
        });
        if (origin !== undefined) {
          await enqueue(
            tx,
            auditEvent(origin, {
              subjectType: "rate",
              subjectId: `${base}/${quote}`,
              ...(previous === undefined ? {} : { before: { rate: formatRate(previousIn(previous, base)) } }),
              after: { rate: formatRate(rate), source },
              occurredAt: next.updatedAt,
            }),
          );
        }
      });
      await reload();
      return { ...next, derivation: "direct" };
    },

    /** Locks the current rate less the spread for amount (minor units of from), for `owner` (see ownerOf). */
    async createQuote(owner: string, from: string, to: string, amount: bigint): Promise<Quote> {
      const mid = await resolve(from, to, ["from_currency", "to_currency"]);
      const rate = parseRate(formatRate(mid.rate.times(BPS - settings.spreadBps).div(BPS)));
      const toAmount = convertAmount(amount, from, to, rate);
      if (toAmount <= 0n) {
        throw new FxError("AMOUNT_TOO_SMALL", `the amount converts to less than one minor unit of ${to}`, {
          field: "amount",
        });
      }
      // An amount in range can convert to one that is not (the quote's columns are BIGINT).
      if (toAmount > MAX_MINOR) throw tooLarge(to);
      const now = clock.now();
      const quote: QuoteRow = {
        id: randomUUID(),
        owner,
        fromCurrency: from,
        toCurrency: to,
        rate,
        midRate: mid.rate,
        spreadBps: settings.spreadBps,
        fromAmount: amount,
        toAmount,
        // Never negative: the customer's rate is at most the mid rate and both round the same way.
        spreadAmount: convertAmount(amount, from, to, mid.rate) - toAmount,
        createdAt: now,
        expiresAt: new Date(now.getTime() + settings.quoteTtlMs),
        redeemedAt: null,
      };
      await store.insertQuote(pool, quote);
      return withStatus(quote);
    },

    /**
     * A quote for its owner (or, with `anyOwner`, for an admin). Someone else's quote is QUOTE_NOT_FOUND like a
     * missing one, so ids cannot be probed.
     */
    async getQuote(id: string, reader: { owner: string; anyOwner?: boolean }): Promise<Quote> {
      const q = await store.getQuote(pool, id);
      if (!q || (q.owner !== reader.owner && reader.anyOwner !== true)) throw quoteNotFound(id);
      return withStatus(q);
    },

    /** Uses a quote once, before it expires (for service callers: the wallet redeems its users' quotes). */
    async redeemQuote(id: string): Promise<Quote> {
      return withTransaction(pool, async (tx) => {
        const q = await store.getQuote(tx, id, { forUpdate: true });
        if (!q) throw quoteNotFound(id);
        const { status } = withStatus(q);
        if (status === "redeemed") {
          throw new FxError("QUOTE_ALREADY_REDEEMED", `quote ${id} was already used`, { quote_id: id });
        }
        if (status === "expired") {
          throw new FxError("QUOTE_EXPIRED", `quote ${id} expired at ${q.expiresAt.toISOString()}`, {
            quote_id: id,
            expired_at: q.expiresAt.toISOString(),
          });
        }
        const now = clock.now();
        await store.markRedeemed(tx, id, now);
        return { ...q, redeemedAt: now, status: "redeemed" as const };
      });
    },

    /** Converts at the current mid rate, half-even, without locking anything. */
    async convert(from: string, to: string, amount: bigint): Promise<{ toAmount: bigint; rate: Decimal }> {
      if (from === to) return { toAmount: amount, rate: parseRate("1") };
      const mid = await resolve(from, to, ["from_currency", "to_currency"]);
      const toAmount = convertAmount(amount, from, to, mid.rate);
      if (toAmount > MAX_MINOR || toAmount < -MAX_MINOR) throw tooLarge(to);
      return { toAmount, rate: mid.rate };
    },

    /** Sets each seed rate whose pair has no rate yet (first start of a fresh database). */
    async seed(rates: Array<{ base: string; quote: string; rate: Decimal }>): Promise<number> {
      const b = await reload();
      let set = 0;
      for (const r of rates) {
        if (b.stored(r.base, r.quote)) continue;
        await this.setRate(r.base, r.quote, r.rate, "seed");
        set++;
      }
      return set;
    },
  };
}

export type FxService = ReturnType<typeof createFxService>;

function previousIn(previous: StoredRate, base: string): Decimal {
  return previous.base === base ? previous.rate : invertRate(previous.rate);
}

/** A pair's history is listed newest first: the position is the last rate's row id. */
const historyCursor = pageCursor({ id: cursorParts.int64 });

function tooLarge(to: string): FxError {
  return new FxError("VALIDATION_ERROR", `the amount converts to more than the largest ${to} amount`, {
    field: "amount",
  });
}

const quoteNotFound = (id: string) =>
  new FxError("QUOTE_NOT_FOUND", `quote ${id} not found`, { quote_id: id });
