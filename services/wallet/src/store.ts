import type { Queryable } from "@fintech/db";
import type { OutboxRow } from "@fintech/events";
import { outboxWritten } from "@fintech/events";
import { currency as currencyInfo } from "@fintech/money";
import type {
  FraudDecision,
  Stage,
  Transaction,
  TransactionStatus,
  TransactionType,
  User,
  UserStatus,
  Wallet,
} from "./model.js";

// The wallet schema's SQL. Every function takes the connection or transaction to run on.

interface UserRecord {
  id: string;
  status: UserStatus;
  timezone: string;
  default_currency: string;
}

interface WalletRecord {
  id: string;
  user_id: string;
  currency: string;
  status: "active" | "closed";
  is_default: boolean;
  created_at: Date;
}

interface TransactionRecord {
  id: string;
  user_id: string;
  wallet_id: string;
  transaction_type: TransactionType;
  status: TransactionStatus;
  stage: Stage;
  lease_until: Date | null;
  amount: bigint;
  currency: string;
  charged_amount: bigint;
  charged_currency: string;
  rate: string;
  to_wallet_id: string | null;
  to_amount: bigint | null;
  to_currency: string | null;
  spread_amount: bigint | null;
  quote_id: string | null;
  counterparty_user_id: string | null;
  related_transaction_id: string | null;
  direction: "" | "outgoing" | "incoming";
  merchant_name: string;
  merchant_category: string;
  source: string;
  description: string;
  tags: string[];
  reason: string;
  original_transaction_id: string | null;
  refunded_amount: bigint;
  base_amount: bigint;
  base_currency: string;
  timezone: string;
  limit_day: string | null;
  needs_score: boolean;
  fraud_score: number;
  fraud_flags: string[];
  fraud_decision: FraudDecision;
  failure_reason: string;
  legs: Array<{ debit: string; credit: string; amount: string; currency: string }>;
  created_at: Date;
  updated_at: Date;
}

const toUser = (r: UserRecord): User => ({
  id: r.id,
  status: r.status,
  timezone: r.timezone,
  defaultCurrency: r.default_currency,
});

const toWallet = (r: WalletRecord): Wallet => ({
  id: r.id,
  userId: r.user_id,
  currency: r.currency,
  status: r.status,
  isDefault: r.is_default,
  createdAt: r.created_at,
});

const toTransaction = (r: TransactionRecord): Transaction => ({
  id: r.id,
  userId: r.user_id,
  walletId: r.wallet_id,
  type: r.transaction_type,
  status: r.status,
  stage: r.stage,
  leaseUntil: r.lease_until,
  amount: r.amount,
  currency: r.currency,
  chargedAmount: r.charged_amount,
  chargedCurrency: r.charged_currency,
  rate: r.rate,
  toWalletId: r.to_wallet_id,
  toAmount: r.to_amount,
  toCurrency: r.to_currency,
  spreadAmount: r.spread_amount,
  quoteId: r.quote_id,
  counterpartyUserId: r.counterparty_user_id,
  relatedTransactionId: r.related_transaction_id,
  direction: r.direction,
  merchantName: r.merchant_name,
  merchantCategory: r.merchant_category,
  source: r.source,
  description: r.description,
  tags: r.tags,
  reason: r.reason,
  originalTransactionId: r.original_transaction_id,
  refundedAmount: r.refunded_amount,
  baseAmount: r.base_amount,
  baseCurrency: r.base_currency,
  timezone: r.timezone,
  limitDay: r.limit_day,
  needsScore: r.needs_score,
  fraudScore: r.fraud_score,
  fraudFlags: r.fraud_flags,
  fraudDecision: r.fraud_decision,
  failureReason: r.failure_reason,
  legs: r.legs.map((l) => ({ ...l, amount: BigInt(l.amount) })),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const TX_COLUMNS = `id, user_id, wallet_id, transaction_type, status, stage, lease_until, amount, currency,
  charged_amount, charged_currency, rate, to_wallet_id, to_amount, to_currency, spread_amount, quote_id,
  counterparty_user_id, related_transaction_id, direction, merchant_name, merchant_category, source, description,
  tags, reason, original_transaction_id, refunded_amount, base_amount, base_currency, timezone,
  limit_day::text AS limit_day, needs_score, fraud_score, fraud_flags, fraud_decision, failure_reason, legs,
  created_at, updated_at, amount_major`;

/** The amount in its currency's major units, as a numeric literal (for filters and sorting). */
export function majorUnits(amount: bigint, currency: string): string {
  const digits = currencyInfo(currency).minorUnits;
  if (digits === 0) return amount.toString();
  const s = (amount < 0n ? -amount : amount).toString().padStart(digits + 1, "0");
  return `${amount < 0n ? "-" : ""}${s.slice(0, -digits)}.${s.slice(-digits)}`;
}

/** The changes a state transition writes; absent fields stay as they are. */
export interface TransactionChange {
  status?: TransactionStatus;
  stage?: Stage;
  leaseUntil?: Date | null;
  fraudScore?: number;
  fraudFlags?: string[];
  fraudDecision?: FraudDecision;
  failureReason?: string;
  reason?: string;
  description?: string;
  tags?: string[];
}

/** One transaction's change from one of the statuses `from`, with the events it publishes (transitionMany). */
export interface Transition {
  id: string;
  from: readonly TransactionStatus[];
  change: TransactionChange;
  at: Date;
  events: readonly OutboxRow[];
}

const CHANGE_COLUMNS: Record<keyof TransactionChange, string> = {
  status: "status",
  stage: "stage",
  leaseUntil: "lease_until",
  fraudScore: "fraud_score",
  fraudFlags: "fraud_flags",
  fraudDecision: "fraud_decision",
  failureReason: "failure_reason",
  reason: "reason",
  description: "description",
  tags: "tags",
};

const DRIVING_ONLY: ReadonlySet<keyof TransactionChange> = new Set([
  "stage",
  "leaseUntil",
  "fraudScore",
  "fraudFlags",
  "fraudDecision",
]);

const INSERT_COLUMNS = `id, user_id, wallet_id, transaction_type, status, stage, lease_until, amount, currency,
  amount_major, charged_amount, charged_currency, rate, to_wallet_id, to_amount, to_currency, spread_amount, quote_id,
  counterparty_user_id, related_transaction_id, direction, merchant_name, merchant_category, source, description,
  tags, reason, original_transaction_id, refunded_amount, base_amount, base_currency, timezone, limit_day,
  needs_score, fraud_score, fraud_flags, fraud_decision, failure_reason, legs, created_at, updated_at`;

/** The values of one row, in the order of INSERT_COLUMNS (legs as their JSON form). */
function columnValues(t: Transaction): unknown[] {
  return [
    t.id,
    t.userId,
    t.walletId,
    t.type,
    t.status,
    t.stage,
    t.leaseUntil,
    t.amount,
    t.currency,
    majorUnits(t.amount, t.currency),
    t.chargedAmount,
    t.chargedCurrency,
    t.rate,
    t.toWalletId,
    t.toAmount,
    t.toCurrency,
    t.spreadAmount,
    t.quoteId,
    t.counterpartyUserId,
    t.relatedTransactionId,
    t.direction,
    t.merchantName,
    t.merchantCategory,
    t.source,
    t.description,
    t.tags,
    t.reason,
    t.originalTransactionId,
    t.refundedAmount,
    t.baseAmount,
    t.baseCurrency,
    t.timezone,
    t.limitDay,
    t.needsScore,
    t.fraudScore,
    t.fraudFlags,
    t.fraudDecision,
    t.failureReason,
    t.legs.map((l) => ({ ...l, amount: l.amount.toString() })),
    t.createdAt,
    t.updatedAt,
  ];
}

const INSERT_COLUMN_NAMES = INSERT_COLUMNS.split(",").map((c) => c.trim());

/** "($n, ...)" for one row of INSERT_COLUMNS, its values appended to `params`. */
function valuesOf(t: Transaction, params: unknown[]): string {
  const values = columnValues(t).map((v, i) => (INSERT_COLUMN_NAMES[i] === "legs" ? JSON.stringify(v) : v));
  const first = params.length + 1;
  params.push(...values);
  return `(${values.map((_, i) => `$${first + i}`).join(", ")})`;
}

/** A value as JSON that Postgres reads back exactly: bigints and byte strings as text, times in ISO 8601. */
function jsonValue(v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Date) return v.toISOString();
  if (Buffer.isBuffer(v)) return `\\x${v.toString("hex")}`;
  return v;
}

/** One transaction as a JSON object of its INSERT_COLUMNS (for jsonb_populate_record on transactions). */
function rowJson(t: Transaction): Record<string, unknown> {
  const values = columnValues(t);
  return Object.fromEntries(INSERT_COLUMN_NAMES.map((c, i) => [c, jsonValue(values[i])]));
}

/** An Idempotency-Key claimed in the statement that records its request's transaction (see idempotency.ts). */
export interface KeyClaim {
  principal: string;
  key: string;
  requestHash: Buffer;
  /** The transaction the key is bound to: the one being recorded. */
  transactionId: string;
  lockedUntil: Date;
  createdAt: Date;
  expiresAt: Date;
}

/** One call's recording step: its new transactions with their created events, its spending, its key. */
export interface Recording {
  rows: readonly Transaction[];
  events: readonly OutboxRow[];
  /** Counts `amount` towards the user's `day`; past `limit` nothing of the call is written. */
  spend?: { userId: string; day: string; amount: bigint; limit: bigint } | undefined;
  /** Claims this new key first; when the key exists already nothing of the call is written. */
  claim?: KeyClaim | undefined;
}

/**
 * How a recording ended: written; not written because its key exists already (`key-taken`); or not written
 * because it would take the day's spending past the limit (`over-limit`, with what was counted already; a
 * key it carried is claimed all the same).
 */
export type Recorded = { kind: "recorded" } | { kind: "key-taken" } | { kind: "over-limit"; used: bigint };

/** Keyset position in a list: the sort key's value and the id. */
export interface ListPosition {
  key: string;
  id: string;
}

/** A list of transactions: whose, which, in what order, from where. */
export interface TransactionQuery {
  /** A user's transactions, or a wallet's (with conversions into it). */
  scope: { userId: string } | { walletId: string };
  status?: TransactionStatus;
  type?: TransactionType;
  merchantCategory?: string;
  from?: Date;
  to?: Date;
  minAmount?: string;
  maxAmount?: string;
  sortBy: "created_at" | "amount";
  descending: boolean;
  limit: number;
  after?: ListPosition;
  offset?: number;
}

export const store = {
  /** The user and the time of the change the projection applied last (`version`). */
  async getUser(db: Queryable, id: string): Promise<{ user: User; version: Date } | undefined> {
    const { rows } = await db.query<UserRecord & { version: Date }>(
      "SELECT id, status, timezone, default_currency, version FROM users WHERE id = $1",
      [id],
    );
    return rows[0] && { user: toUser(rows[0]), version: rows[0].version };
  },

  /** Applies a user's state as of `version`; a state older than the stored one changes nothing. */
  async upsertUser(db: Queryable, user: User, version: Date): Promise<boolean> {
    const { rowCount } = await db.query(
      `INSERT INTO users (id, status, timezone, default_currency, version) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, timezone = EXCLUDED.timezone,
         default_currency = EXCLUDED.default_currency, version = EXCLUDED.version, updated_at = now()
       WHERE users.version < EXCLUDED.version`,
      [user.id, user.status, user.timezone, user.defaultCurrency, version],
    );
    return rowCount === 1;
  },

  /** Makes `walletId` the user's one default wallet (their other wallets stop being default). */
  async setDefaultWallet(db: Queryable, userId: string, walletId: string): Promise<void> {
    await db.query(
      "UPDATE wallets SET is_default = (id = $2) WHERE user_id = $1 AND is_default IS DISTINCT FROM (id = $2)",
      [userId, walletId],
    );
  },

  /** Inserts a wallet unless the user has one in its currency; true when it was inserted. */
  async insertWallet(db: Queryable, w: Wallet): Promise<boolean> {
    const { rowCount } = await db.query(
      `INSERT INTO wallets (id, user_id, currency, status, is_default, created_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT DO NOTHING`,
      [w.id, w.userId, w.currency, w.status, w.isDefault, w.createdAt],
    );
    return rowCount === 1;
  },

  async getWallet(db: Queryable, id: string): Promise<Wallet | undefined> {
    const { rows } = await db.query<WalletRecord>("SELECT * FROM wallets WHERE id = $1", [id]);
    return rows[0] && toWallet(rows[0]);
  },

  async walletsOf(db: Queryable, userId: string): Promise<Wallet[]> {
    const { rows } = await db.query<WalletRecord>(
      "SELECT * FROM wallets WHERE user_id = $1 ORDER BY created_at, id",
      [userId],
    );
    return rows.map(toWallet);
  },

  /** A user's wallets oldest first, after `after` (created_at, id). */
  async listWallets(
    db: Queryable,
    userId: string,
    limit: number,
    after?: { createdAt: Date; id: string },
  ): Promise<Wallet[]> {
    const { rows } = await db.query<WalletRecord>(
      `SELECT * FROM wallets WHERE user_id = $1 AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3::uuid))
       ORDER BY created_at, id LIMIT $4`,
      [userId, after?.createdAt ?? null, after?.id ?? null, limit],
    );
    return rows.map(toWallet);
  },

  async closeWallets(db: Queryable, userId: string): Promise<void> {
    await db.query("UPDATE wallets SET status = 'closed' WHERE user_id = $1", [userId]);
  },

  async insertTransaction(db: Queryable, t: Transaction): Promise<void> {
    const params: unknown[] = [];
    await db.query(`INSERT INTO transactions (${INSERT_COLUMNS}) VALUES ${valuesOf(t, params)}`, params);
  },

  /**
   * Records calls' new transactions and their outbox events in one statement (one round trip, one commit,
   * atomic without a transaction block), each call on its own: a call whose key (`claim`) exists already, or
   * whose spending would go past the day's limit, writes nothing and the others are written all the same.
   * Two calls of one statement must not count on the same user's day nor claim the same key. A call's row
   * whose id exists already fails the whole statement (23505): nothing is written.
   */
  async record(db: Queryable, calls: readonly Recording[]): Promise<Recorded[]> {
    const claims = calls.flatMap((c, i) =>
      c.claim === undefined
        ? []
        : [
            {
              i,
              principal: c.claim.principal,
              key: c.claim.key,
              request_hash: jsonValue(c.claim.requestHash),
              transaction_id: c.claim.transactionId,
              locked_until: jsonValue(c.claim.lockedUntil),
              created_at: jsonValue(c.claim.createdAt),
              expires_at: jsonValue(c.claim.expiresAt),
            },
          ],
    );
    const spends = calls.flatMap((c, i) =>
      c.spend === undefined
        ? []
        : [
            {
              i,
              user_id: c.spend.userId,
              day: c.spend.day,
              amount: jsonValue(c.spend.amount),
              lim: jsonValue(c.spend.limit),
            },
          ],
    );
    const rows = calls.flatMap((c, i) => c.rows.map((t) => ({ i, row: rowJson(t) })));
    const events = calls.flatMap((c, i) =>
      c.events.map((e) => ({
        i,
        id: e.id,
        subject: e.subject,
        type: e.type,
        payload: jsonValue(e.payload),
        headers: e.headers,
      })),
    );
    // Keys first: only a call whose key is new (or that has none) goes on. Spending next, the day's row
    // updated only while it stays within the limit (so a refusal is a row not returned, not an error that
    // would abort everyone's statement). Rows and events last, for the calls that got this far. Keys and
    // days are taken in one order, so two such statements running at once do not deadlock on them.
    const { rows: result } = await db.query<{ live: number[]; ok: number[] }>(
      `WITH calls AS (SELECT i FROM generate_series(0, $1::int - 1) AS g(i)),
       claims AS (
         SELECT * FROM jsonb_to_recordset($2::jsonb) AS c(i int, principal text, key text, request_hash bytea,
           transaction_id uuid, locked_until timestamptz, created_at timestamptz, expires_at timestamptz)),
       k AS (
         INSERT INTO idempotency_keys
           (principal, key, request_hash, state, locked_until, created_at, expires_at, transaction_id)
         SELECT principal, key, request_hash, 'running', locked_until, created_at, expires_at, transaction_id
           FROM claims ORDER BY principal, key
         ON CONFLICT (principal, key) DO NOTHING
         RETURNING principal, key),
       live AS (
         SELECT i FROM calls WHERE i NOT IN (SELECT i FROM claims)
         UNION ALL SELECT c.i FROM claims c JOIN k USING (principal, key)),
       spends AS (
         SELECT * FROM jsonb_to_recordset($3::jsonb) AS s(i int, user_id text, day date, amount bigint, lim bigint)),
       spent AS (
         INSERT INTO daily_spending AS d (user_id, day, base_total, limit_total)
         SELECT user_id, day, amount, lim FROM spends WHERE amount <= lim AND i IN (SELECT i FROM live)
           ORDER BY user_id, day
         ON CONFLICT (user_id, day) DO UPDATE
           SET base_total = d.base_total + EXCLUDED.base_total, limit_total = EXCLUDED.limit_total
           WHERE d.base_total + EXCLUDED.base_total <= EXCLUDED.limit_total
         RETURNING user_id, day),
       ok AS (
         SELECT i FROM live WHERE i NOT IN (SELECT i FROM spends)
         UNION ALL SELECT s.i FROM spends s JOIN spent USING (user_id, day)),
       tx AS (
         INSERT INTO transactions (${INSERT_COLUMNS})
         SELECT ${INSERT_COLUMN_NAMES.map((c) => `r.${c}`).join(", ")}
           FROM jsonb_array_elements($4::jsonb) e, LATERAL jsonb_populate_record(NULL::transactions, e->'row') r
          WHERE (e->>'i')::int IN (SELECT i FROM ok)
         RETURNING 1),
       ob AS (
         INSERT INTO outbox (id, subject, type, payload, headers)
         SELECT id, subject, type, payload, headers
           FROM jsonb_to_recordset($5::jsonb) AS o(i int, id uuid, subject text, type text, payload bytea, headers jsonb)
          WHERE i IN (SELECT i FROM ok)
          ORDER BY i
         RETURNING 1)
       SELECT ARRAY(SELECT i FROM live) AS live, ARRAY(SELECT i FROM ok) AS ok`,
      [
        calls.length,
        JSON.stringify(claims),
        JSON.stringify(spends),
        JSON.stringify(rows),
        JSON.stringify(events),
      ],
    );
    const live = new Set(result[0]?.live ?? []);
    const ok = new Set(result[0]?.ok ?? []);
    if (ok.size > 0) outboxWritten(db);
    return Promise.all(
      calls.map(async (c, i): Promise<Recorded> => {
        if (ok.has(i)) return { kind: "recorded" };
        if (!live.has(i) || c.spend === undefined) return { kind: "key-taken" };
        const { rows: used } = await db.query<{ base_total: bigint }>(
          "SELECT base_total FROM daily_spending WHERE user_id = $1 AND day = $2::date",
          [c.spend.userId, c.spend.day],
        );
        return { kind: "over-limit", used: used[0]?.base_total ?? 0n };
      }),
    );
  },

  /**
   * Applies each item's `change` to its transaction (one row: a transfer's other side is not touched) when its
   * status is one of the item's `from`, and writes the item's `events` into the outbox only if it did; one
   * statement for all. Returns, per item, the row after it, or undefined when the status did not match. Items
   * must name distinct transactions.
   */
  async transitionMany(db: Queryable, items: readonly Transition[]): Promise<Array<Transaction | undefined>> {
    const changes = items.map((item) => ({
      tx_id: item.id,
      from_statuses: item.from,
      at: jsonValue(item.at),
      change: Object.fromEntries(
        Object.entries(CHANGE_COLUMNS)
          .filter(([key]) => item.change[key as keyof TransactionChange] !== undefined)
          .map(([key, column]) => [column, jsonValue(item.change[key as keyof TransactionChange])]),
      ),
    }));
    const events = items.flatMap((item) =>
      item.events.map((e) => ({
        transaction_id: item.id,
        id: e.id,
        subject: e.subject,
        type: e.type,
        payload: jsonValue(e.payload),
        headers: e.headers,
      })),
    );
    const columns = Object.values(CHANGE_COLUMNS);
    // jsonb_populate_record over the row as it is replaces only the columns a change names. The ids, also given
    // as an array, let Postgres find the rows by the primary key: it takes jsonb_to_recordset for a hundred rows
    // whatever it holds, and until the table is large it scans all of it rather than look a hundred up.
    const { rows } = await db.query<TransactionRecord>(
      `WITH c AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb)
           AS c(tx_id uuid, from_statuses text[], at timestamptz, change jsonb)),
       t AS (
         UPDATE transactions t SET (${columns.join(", ")}, updated_at) = (
             SELECT ${columns.map((col) => `n.${col}`).join(", ")}, c.at
               FROM jsonb_populate_record(t, c.change) n)
           FROM c
          WHERE t.id = c.tx_id AND t.status = ANY(c.from_statuses) AND t.id = ANY($3::uuid[])
         RETURNING ${TX_COLUMNS}),
       ob AS (
         INSERT INTO outbox (id, subject, type, payload, headers)
         SELECT o.id, o.subject, o.type, o.payload, o.headers
           FROM jsonb_to_recordset($2::jsonb)
             AS o(transaction_id uuid, id uuid, subject text, type text, payload bytea, headers jsonb)
          WHERE o.transaction_id IN (SELECT id FROM t)
         RETURNING 1)
       SELECT * FROM t`,
      [JSON.stringify(changes), JSON.stringify(events), items.map((item) => item.id)],
    );
    if (rows.length > 0 && events.length > 0) outboxWritten(db);
    const after = new Map(rows.map((r) => [r.id, toTransaction(r)]));
    return items.map((item) => after.get(item.id));
  },

  async getTransaction(
    db: Queryable,
    id: string,
    opts: { forUpdate?: boolean } = {},
  ): Promise<Transaction | undefined> {
    const { rows } = await db.query<TransactionRecord>(
      `SELECT ${TX_COLUMNS} FROM transactions WHERE id = $1${opts.forUpdate ? " FOR UPDATE" : ""}`,
      [id],
    );
    return rows[0] && toTransaction(rows[0]);
  },

  /**
   * Applies `change` to the transaction (and to its other side, for a transfer) when its status is one of
   * `from`; returns the rows as they are after it, the driving row first, or [] when the status did not match
   * (someone else moved it on).
   */
  async transition(
    db: Queryable,
    id: string,
    from: readonly TransactionStatus[],
    change: TransactionChange,
    at: Date,
    opts: { bothSides?: boolean } = {},
  ): Promise<Transaction[]> {
    const sets: string[] = [];
    const params: unknown[] = [id, from, at];
    for (const [key, column] of Object.entries(CHANGE_COLUMNS) as Array<[keyof TransactionChange, string]>) {
      if (change[key] === undefined) continue;
      params.push(change[key]);
      const value = `$${params.length}`;
      // The other side of a transfer mirrors the status only: its stage stays done, fraud is the sender's.
      sets.push(
        DRIVING_ONLY.has(key)
          ? `${column} = CASE WHEN id = $1 THEN ${value} ELSE ${column} END`
          : `${column} = ${value}`,
      );
    }
    const sides = opts.bothSides
      ? "(id = $1 OR related_transaction_id = $1 AND direction = 'incoming')"
      : "id = $1";
    const { rows } = await db.query<TransactionRecord>(
      `UPDATE transactions SET ${[...sets, "updated_at = $3"].join(", ")}
       WHERE ${sides} AND status = ANY($2::text[]) RETURNING ${TX_COLUMNS}`,
      params,
    );
    return rows.map(toTransaction).sort((a, b) => (a.id === id ? -1 : b.id === id ? 1 : 0));
  },

  /** Changes only the annotations (description, tags). */
  async annotate(
    db: Queryable,
    id: string,
    change: { description?: string; tags?: string[] },
    at: Date,
  ): Promise<Transaction | undefined> {
    const { rows } = await db.query<TransactionRecord>(
      `UPDATE transactions SET description = COALESCE($2, description), tags = COALESCE($3, tags), updated_at = $4
       WHERE id = $1 RETURNING ${TX_COLUMNS}`,
      [id, change.description ?? null, change.tags ?? null, at],
    );
    return rows[0] && toTransaction(rows[0]);
  },

  /** Adds `delta` (negative to give back) to a purchase's refunded amount. */
  async addRefunded(db: Queryable, id: string, delta: bigint, at: Date): Promise<Transaction | undefined> {
    const { rows } = await db.query<TransactionRecord>(
      `UPDATE transactions SET refunded_amount = refunded_amount + $2, updated_at = $3 WHERE id = $1
       RETURNING ${TX_COLUMNS}`,
      [id, delta, at],
    );
    return rows[0] && toTransaction(rows[0]);
  },

  /**
   * Takes over unfinished transactions whose lease ran out, at most `limit`, leasing each for `leaseMs` so that
   * other replicas' passes skip them. Returns their ids.
   */
  async claimUnfinished(db: Queryable, now: Date, leaseMs: number, limit: number): Promise<string[]> {
    const { rows } = await db.query<{ id: string }>(
      `UPDATE transactions SET lease_until = $2 WHERE id IN (
         SELECT id FROM transactions WHERE stage <> 'done' AND lease_until < $1
         ORDER BY lease_until LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING id`,
      [now, new Date(now.getTime() + leaseMs), limit],
    );
    return rows.map((r) => r.id);
  },

  /**
   * Takes over one unfinished transaction whose lease ran out, as claimUnfinished does (a retry under the
   * Idempotency-Key that created it finding its request gone); true when it did.
   */
  async claimOne(db: Queryable, id: string, now: Date, leaseMs: number): Promise<boolean> {
    const { rowCount } = await db.query(
      `UPDATE transactions SET lease_until = $3 WHERE id = $1 AND stage <> 'done' AND lease_until < $2`,
      [id, now, new Date(now.getTime() + leaseMs)],
    );
    return rowCount === 1;
  },

  async listTransactions(db: Queryable, q: TransactionQuery): Promise<Transaction[]> {
    const params: unknown[] = [];
    const p = (v: unknown) => {
      params.push(v);
      return `$${params.length}`;
    };
    const filters: string[] = [];
    if (q.status) filters.push(`status = ${p(q.status)}`);
    if (q.type) filters.push(`transaction_type = ${p(q.type)}`);
    if (q.merchantCategory) filters.push(`merchant_category = ${p(q.merchantCategory)}`);
    if (q.from) filters.push(`created_at >= ${p(q.from)}`);
    if (q.to) filters.push(`created_at < ${p(q.to)}`);
    if (q.minAmount !== undefined) filters.push(`amount_major >= ${p(q.minAmount)}::numeric`);
    if (q.maxAmount !== undefined) filters.push(`amount_major <= ${p(q.maxAmount)}::numeric`);
    const key = q.sortBy === "amount" ? "amount_major" : "created_at";
    const cast = q.sortBy === "amount" ? "numeric" : "timestamptz";
    if (q.after) {
      const op = q.descending ? "<" : ">";
      filters.push(`(${key}, id) ${op} (${p(q.after.key)}::${cast}, ${p(q.after.id)}::uuid)`);
    }
    const dir = q.descending ? "DESC" : "ASC";
    const order = `ORDER BY ${key} ${dir}, id ${dir}`;
    const limit = p(q.limit);
    const offset = q.offset ? ` OFFSET ${p(q.offset)}` : "";
    const where = (scope: string) => [scope, ...filters].join(" AND ");
    let sql: string;
    if ("userId" in q.scope) {
      sql = `SELECT ${TX_COLUMNS} FROM transactions WHERE ${where(`user_id = ${p(q.scope.userId)}`)}
        ${order} LIMIT ${limit}${offset}`;
    } else {
      // A wallet's own rows, and conversions into it: each branch walks its own index in order.
      const w = p(q.scope.walletId);
      // Typed: two bare parameters added together leave Postgres no operator to choose.
      const inner = q.offset ? `(${limit}::bigint + ${p(q.offset)}::bigint)` : limit;
      sql = `SELECT * FROM (
          (SELECT ${TX_COLUMNS} FROM transactions WHERE ${where(`wallet_id = ${w}`)} ${order} LIMIT ${inner})
          UNION ALL
          (SELECT ${TX_COLUMNS} FROM transactions
           WHERE ${where(`to_wallet_id = ${w} AND transaction_type = 'conversion'`)} ${order} LIMIT ${inner})
        ) t ${order} LIMIT ${limit}${offset}`;
    }
    const { rows } = await db.query<TransactionRecord>(sql, params);
    return rows.map(toTransaction);
  },

  /** Takes `amount` back out of the user's spending on `day` (a failed or reversed transaction). */
  async releaseSpending(db: Queryable, userId: string, day: string, amount: bigint): Promise<void> {
    await db.query(
      `UPDATE daily_spending SET base_total = GREATEST(base_total - $3::bigint, 0)
       WHERE user_id = $1 AND day = $2::date`,
      [userId, day, amount],
    );
  },
};
