import type { Queryable } from "@fintech/db";
import type { Decimal } from "@fintech/money";
import { parseRate } from "@fintech/money";
import type { StoredRate } from "./rate-book.js";

export interface QuoteRow {
  id: string;
  /** Who created it: "user:<id>" or "service:<name>" (see ownerOf). */
  owner: string;
  fromCurrency: string;
  toCurrency: string;
  rate: Decimal;
  midRate: Decimal;
  spreadBps: number;
  fromAmount: bigint;
  toAmount: bigint;
  spreadAmount: bigint;
  createdAt: Date;
  expiresAt: Date;
  redeemedAt: Date | null;
}

interface RateRecord {
  base: string;
  quote: string;
  rate: string;
  source: string;
  updated_at: Date;
}

interface QuoteRecord {
  id: string;
  owner: string;
  from_currency: string;
  to_currency: string;
  rate: string;
  mid_rate: string;
  spread_bps: number;
  from_amount: bigint;
  to_amount: bigint;
  spread_amount: bigint;
  created_at: Date;
  expires_at: Date;
  redeemed_at: Date | null;
}

const toRate = (r: RateRecord): StoredRate => ({
  base: r.base,
  quote: r.quote,
  rate: parseRate(r.rate),
  source: r.source,
  updatedAt: r.updated_at,
});

const toQuote = (r: QuoteRecord): QuoteRow => ({
  id: r.id,
  owner: r.owner,
  fromCurrency: r.from_currency,
  toCurrency: r.to_currency,
  rate: parseRate(r.rate),
  midRate: parseRate(r.mid_rate),
  spreadBps: r.spread_bps,
  fromAmount: r.from_amount,
  toAmount: r.to_amount,
  spreadAmount: r.spread_amount,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  redeemedAt: r.redeemed_at,
});

// numeric(30,12) renders trailing zeros; parseRate accepts them and formatRate trims them.
const RATE_COLUMNS = "base, quote, rate::text AS rate, source, updated_at";
const QUOTE_COLUMNS = `id, owner, from_currency, to_currency, rate::text AS rate, mid_rate::text AS mid_rate, spread_bps,
  from_amount, to_amount, spread_amount, created_at, expires_at, redeemed_at`;

/** The fx schema's SQL. Every function takes the connection or transaction to run on. */
export const store = {
  async loadRates(db: Queryable): Promise<StoredRate[]> {
    const { rows } = await db.query<RateRecord>(`SELECT ${RATE_COLUMNS} FROM rates`);
    return rows.map(toRate);
  },

  /** Locks the pair in both directions for the rest of the transaction and returns its stored rate. */
  async lockPair(db: Queryable, base: string, quote: string): Promise<StoredRate | undefined> {
    // One advisory lock per unordered pair, so concurrent sets of A/B and B/A serialise.
    const pair = [base, quote].sort().join("/");
    await db.query("SELECT pg_advisory_xact_lock(hashtext('fx.rates'), hashtext($1))", [pair]);
    const { rows } = await db.query<RateRecord>(
      `SELECT ${RATE_COLUMNS} FROM rates WHERE (base, quote) IN (($1, $2), ($2, $1))`,
      [base, quote],
    );
    return rows[0] && toRate(rows[0]);
  },

  /** Makes base/quote the stored direction of the pair and appends the change to the history. */
  async setRate(db: Queryable, rate: StoredRate): Promise<void> {
    await db.query("DELETE FROM rates WHERE base = $1 AND quote = $2", [rate.quote, rate.base]);
    await db.query(
      `INSERT INTO rates (base, quote, rate, source, updated_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (base, quote) DO UPDATE SET rate = EXCLUDED.rate, source = EXCLUDED.source, updated_at = EXCLUDED.updated_at`,
      [rate.base, rate.quote, rate.rate.toFixed(), rate.source, rate.updatedAt],
    );
    await db.query(
      "INSERT INTO rate_history (base, quote, rate, source, effective_at) VALUES ($1, $2, $3, $4, $5)",
      [rate.base, rate.quote, rate.rate.toFixed(), rate.source, rate.updatedAt],
    );
  },

  /** History of a pair in either direction, newest first, keyset-paginated by id. */
  async rateHistory(
    db: Queryable,
    base: string,
    quote: string,
    opts: { limit: number; beforeId?: bigint | undefined },
  ): Promise<Array<StoredRate & { id: bigint }>> {
    const { rows } = await db.query<RateRecord & { id: bigint }>(
      `SELECT id, base, quote, rate::text AS rate, source, effective_at AS updated_at FROM rate_history
       WHERE (base, quote) IN (($1, $2), ($2, $1)) AND ($3::bigint IS NULL OR id < $3)
       ORDER BY id DESC LIMIT $4`,
      [base, quote, opts.beforeId ?? null, opts.limit],
    );
    return rows.map((r) => ({ ...toRate(r), id: r.id }));
  },

  async insertQuote(db: Queryable, q: QuoteRow): Promise<void> {
    await db.query(
      `INSERT INTO quotes (id, from_currency, to_currency, rate, mid_rate, spread_bps, from_amount, to_amount,
         spread_amount, created_at, expires_at, owner)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        q.id,
        q.fromCurrency,
        q.toCurrency,
        q.rate.toFixed(),
        q.midRate.toFixed(),
        q.spreadBps,
        q.fromAmount,
        q.toAmount,
        q.spreadAmount,
        q.createdAt,
        q.expiresAt,
        q.owner,
      ],
    );
  },

  async getQuote(
    db: Queryable,
    id: string,
    opts: { forUpdate?: boolean } = {},
  ): Promise<QuoteRow | undefined> {
    const { rows } = await db.query<QuoteRecord>(
      `SELECT ${QUOTE_COLUMNS} FROM quotes WHERE id = $1${opts.forUpdate ? " FOR UPDATE" : ""}`,
      [id],
    );
    return rows[0] && toQuote(rows[0]);
  },

  async markRedeemed(db: Queryable, id: string, at: Date): Promise<void> {
    await db.query("UPDATE quotes SET redeemed_at = $2 WHERE id = $1", [id, at]);
  },
};
