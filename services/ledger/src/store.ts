import type { Queryable } from "@fintech/db";
import { outboxWritten } from "@fintech/events";
import type {
  Account,
  AccountKind,
  Balances,
  BatchAccount,
  Resolution,
  Transfer,
  TransferKind,
} from "./model.js";

interface AccountRecord {
  id: string;
  currency: string;
  kind: AccountKind;
  code: number;
  owner_ref: string;
  debits_must_not_exceed_credits: boolean;
  credits_must_not_exceed_debits: boolean;
  closed: boolean;
  debits_pending: bigint;
  debits_posted: bigint;
  credits_pending: bigint;
  credits_posted: bigint;
  created_at: Date;
  updated_at: Date;
}

type BatchRecord = Pick<
  AccountRecord,
  | "id"
  | "currency"
  | "debits_must_not_exceed_credits"
  | "credits_must_not_exceed_debits"
  | "closed"
  | "debits_pending"
  | "debits_posted"
  | "credits_pending"
  | "credits_posted"
> & { updated_ms: number; version: string };

interface TransferRecord {
  id: string;
  seq: bigint;
  kind: TransferKind;
  linked: boolean;
  expired: boolean;
  debit_account_id: string;
  credit_account_id: string;
  amount: bigint;
  pending_amount: bigint;
  currency: string;
  code: number;
  pending_id: string | null;
  timeout_seconds: number;
  expires_at: Date | null;
  reference: string;
  description: string;
  user_data: Record<string, string>;
  created_at: Date;
  debit_debits_pending: bigint;
  debit_debits_posted: bigint;
  debit_credits_pending: bigint;
  debit_credits_posted: bigint;
  credit_debits_pending: bigint;
  credit_debits_posted: bigint;
  credit_credits_pending: bigint;
  credit_credits_posted: bigint;
}

const ACCOUNT_COLUMNS = `id, currency, kind, code, owner_ref, debits_must_not_exceed_credits,
  credits_must_not_exceed_debits, closed, debits_pending, debits_posted, credits_pending, credits_posted,
  created_at, updated_at`;

const TRANSFER_COLUMNS = `id, seq, kind, linked, expired, debit_account_id, credit_account_id, amount,
  pending_amount, currency, code, pending_id, timeout_seconds, expires_at, reference, description, user_data,
  created_at, debit_debits_pending, debit_debits_posted, debit_credits_pending, debit_credits_posted,
  credit_debits_pending, credit_debits_posted, credit_credits_pending, credit_credits_posted`;

const toAccount = (r: AccountRecord): Account => ({
  id: r.id,
  currency: r.currency,
  kind: r.kind,
  code: r.code,
  ownerRef: r.owner_ref,
  flags: {
    debitsMustNotExceedCredits: r.debits_must_not_exceed_credits,
    creditsMustNotExceedDebits: r.credits_must_not_exceed_debits,
    closed: r.closed,
  },
  balances: {
    debitsPending: r.debits_pending,
    debitsPosted: r.debits_posted,
    creditsPending: r.credits_pending,
    creditsPosted: r.credits_posted,
  },
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** A stored transfer with its position in the apply order (for cursors). */
export type SequencedTransfer = Transfer & { seq: bigint };

const toTransfer = (r: TransferRecord): SequencedTransfer => ({
  id: r.id,
  seq: r.seq,
  kind: r.kind,
  linked: r.linked,
  expired: r.expired,
  debitAccountId: r.debit_account_id,
  creditAccountId: r.credit_account_id,
  amount: r.amount,
  pendingAmount: r.pending_amount,
  currency: r.currency,
  code: r.code,
  pendingId: r.pending_id,
  timeoutSeconds: r.timeout_seconds,
  expiresAt: r.expires_at,
  reference: r.reference,
  description: r.description,
  userData: r.user_data,
  createdAt: r.created_at,
  debitAfter: {
    debitsPending: r.debit_debits_pending,
    debitsPosted: r.debit_debits_posted,
    creditsPending: r.debit_credits_pending,
    creditsPosted: r.debit_credits_posted,
  },
  creditAfter: {
    debitsPending: r.credit_debits_pending,
    debitsPosted: r.credit_debits_posted,
    creditsPending: r.credit_credits_pending,
    creditsPosted: r.credit_credits_posted,
  },
});

/** One outbox row, written with the batch. */
export interface OutboxRow {
  id: string;
  type: string;
  payload: Uint8Array;
}

/** Everything one batch writes, in one statement. */
export interface BatchWrite {
  transfers: readonly Transfer[];
  balances: ReadonlyMap<string, Balances>;
  now: Date;
  events: readonly OutboxRow[];
  /** Pending transfers with a timeout, created by the batch. */
  timeouts: ReadonlyArray<{ pendingId: string; expiresAt: Date }>;
  /** Pending transfers the batch resolved. */
  resolved: readonly string[];
  /**
   * Each account's version as the batch read it, when it read without locks: the write goes ahead only if none
   * changed since. Undefined under row locks.
   */
  versions: ReadonlyMap<string, string> | undefined;
}

/** Filters of {@link store.accountTransfers}. */
export interface TransferFilter {
  accountId: string;
  side: "both" | "debit" | "credit";
  from: Date | undefined;
  to: Date | undefined;
  code: number | undefined;
  reference: string | undefined;
  oldestFirst: boolean;
  /** Exclusive keyset position: (created_at, seq) of the last row of the previous page. */
  after: { createdAt: Date; seq: bigint } | undefined;
  limit: number;
}

/** Per-currency sums of the accounts' balances, as exact decimal strings of minor units. */
export interface CurrencySums {
  currency: string;
  accounts: number;
  debits_pending: string;
  debits_posted: string;
  credits_pending: string;
  credits_posted: string;
}

/** An account whose stored balances disagree with its transfers or its flags, or transfers with no account. */
export interface AccountDiscrepancy {
  account_id: string;
  /** Null when transfers name an account that does not exist. */
  currency: string | null;
  transfer_currencies: string | null;
  debits_must_not_exceed_credits: boolean | null;
  credits_must_not_exceed_debits: boolean | null;
  debits_pending: bigint | null;
  debits_posted: bigint | null;
  credits_pending: bigint | null;
  credits_posted: bigint | null;
  sum_debits_pending: string;
  sum_debits_posted: string;
  sum_credits_pending: string;
  sum_credits_posted: string;
}

// Each transfer's effect on its debit (d_) and credit (c_) account, as CheckIntegrity recomputes balances.
const EFFECTS = `
  CASE kind WHEN 'pending' THEN amount WHEN 'single' THEN 0 ELSE -pending_amount END AS pending_delta,
  CASE WHEN kind IN ('single', 'post') THEN amount ELSE 0 END AS posted_delta`;

/** The ledger schema's SQL. Every function takes the connection or transaction to run on. */
export const store = {
  async insertAccount(db: Queryable, a: Account): Promise<boolean> {
    const { rowCount } = await db.query(
      `INSERT INTO accounts (id, currency, kind, code, owner_ref, debits_must_not_exceed_credits,
         credits_must_not_exceed_debits, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) ON CONFLICT DO NOTHING`,
      [
        a.id,
        a.currency,
        a.kind,
        a.code,
        a.ownerRef,
        a.flags.debitsMustNotExceedCredits,
        a.flags.creditsMustNotExceedDebits,
        a.createdAt,
      ],
    );
    return rowCount === 1;
  },

  async account(db: Queryable, id: string): Promise<Account | undefined> {
    const { rows } = await db.query<AccountRecord>(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE id = $1`, [
      id,
    ]);
    return rows[0] && toAccount(rows[0]);
  },

  async systemAccount(db: Queryable, kind: AccountKind, currency: string): Promise<Account | undefined> {
    const { rows } = await db.query<AccountRecord>(
      `SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE kind = $1 AND currency = $2`,
      [kind, currency],
    );
    return rows[0] && toAccount(rows[0]);
  },

  async closeAccount(db: Queryable, id: string): Promise<Account | undefined> {
    const { rows } = await db.query<AccountRecord>(
      `UPDATE accounts SET closed = true WHERE id = $1 RETURNING ${ACCOUNT_COLUMNS}`,
      [id],
    );
    return rows[0] && toAccount(rows[0]);
  },

  /**
   * The accounts with these ids that exist, each with its row version. With `lock`, in a transaction, they are
   * locked in id order (so concurrent batches never deadlock).
   */
  async batchAccounts(
    db: Queryable,
    ids: readonly string[],
    opts: { lock: boolean },
  ): Promise<Map<string, BatchAccount>> {
    // Only what a batch needs: this runs for every batch, and every column costs parsing.
    const { rows } = await db.query<BatchRecord>(
      `SELECT id, currency, debits_must_not_exceed_credits, credits_must_not_exceed_debits, closed,
         debits_pending, debits_posted, credits_pending, credits_posted,
         (extract(epoch FROM updated_at) * 1000)::float8 AS updated_ms, xmin::text AS version
       FROM accounts WHERE id = ANY($1::uuid[])${opts.lock ? " ORDER BY id FOR UPDATE" : ""}`,
      [uuidArray(ids)],
    );
    const accounts = new Map<string, BatchAccount>();
    for (const r of rows) {
      accounts.set(r.id, {
        id: r.id,
        currency: r.currency,
        flags: {
          debitsMustNotExceedCredits: r.debits_must_not_exceed_credits,
          creditsMustNotExceedDebits: r.credits_must_not_exceed_debits,
          closed: r.closed,
        },
        balances: {
          debitsPending: r.debits_pending,
          debitsPosted: r.debits_posted,
          creditsPending: r.credits_pending,
          creditsPosted: r.credits_posted,
        },
        updatedAtMs: r.updated_ms,
        version: r.version,
      });
    }
    return accounts;
  },

  async transfers(db: Queryable, ids: readonly string[]): Promise<Map<string, SequencedTransfer>> {
    if (ids.length === 0) return new Map();
    const { rows } = await db.query<TransferRecord>(
      `SELECT ${TRANSFER_COLUMNS} FROM transfers WHERE id = ANY($1::uuid[])`,
      [uuidArray(ids)],
    );
    return new Map(rows.map((r) => [r.id, toTransfer(r)]));
  },

  /** What resolved each of the given pending transfers (absent when unresolved). */
  async resolutions(db: Queryable, pendingIds: readonly string[]): Promise<Map<string, Resolution>> {
    if (pendingIds.length === 0) return new Map();
    const { rows } = await db.query<{
      pending_id: string;
      id: string;
      kind: "post" | "void";
      expired: boolean;
    }>("SELECT pending_id, id, kind, expired FROM transfers WHERE pending_id = ANY($1::uuid[])", [
      pendingIds,
    ]);
    return new Map(rows.map((r) => [r.pending_id, { id: r.id, kind: r.kind, expired: r.expired }]));
  },

  /**
   * Writes a batch in one statement: the transfers (in apply order, which their seq follows), the accounts' new
   * balances, the outbox events and the pending timeouts added and removed. The statement undoes itself (an
   * error, from ledger_batch_conflict) when some transfer id exists already (SQLSTATE 23505), or when an account
   * changed since the batch read it at `w.versions` (40001). Outside a transaction it commits on its own: the
   * accounts' row locks are taken in id order and held only for the statement.
   */
  async writeBatch(db: Queryable, w: BatchWrite): Promise<void> {
    const t = w.transfers;
    const col = <T>(f: (x: Transfer) => T): T[] => t.map(f);
    const accountIds = [...w.balances.keys()];
    const bal = (f: (b: Balances) => bigint) => accountIds.map((id) => f(w.balances.get(id) ?? zero));
    const versions = w.versions;
    await db.query(
      `WITH locked AS (
         SELECT id, xmin FROM accounts WHERE id = ANY($26::uuid[]) ORDER BY id FOR UPDATE
       ), a AS (
         UPDATE accounts SET debits_pending = v.dpe, debits_posted = v.dpo, credits_pending = v.cpe,
           credits_posted = v.cpo, updated_at = $17
         FROM unnest($26::uuid[], $27::int8[], $28::int8[], $29::int8[], $30::int8[], $37::xid[])
           AS v(id, dpe, dpo, cpe, cpo, version)
         JOIN locked ON locked.id = v.id
         WHERE accounts.id = v.id AND (v.version IS NULL OR locked.xmin = v.version)
         RETURNING 1
       ), t AS (
         INSERT INTO transfers (id, kind, linked, expired, debit_account_id, credit_account_id, amount,
           pending_amount, currency, code, pending_id, timeout_seconds, expires_at, reference, description,
           user_data, created_at, debit_debits_pending, debit_debits_posted, debit_credits_pending,
           debit_credits_posted, credit_debits_pending, credit_debits_posted, credit_credits_pending,
           credit_credits_posted)
         SELECT id, kind, linked, expired, dr, cr, amount, pending_amount, currency, code, pending_id,
           timeout_seconds, expires_at, reference, description, user_data, $17, ddpe, ddpo, dcpe, dcpo, cdpe,
           cdpo, ccpe, ccpo
         FROM unnest($1::uuid[], $2::text[], $3::bool[], $4::bool[], $5::uuid[], $6::uuid[], $7::int8[],
           $8::int8[], $9::text[], $10::int4[], $11::uuid[], $12::int4[], $13::timestamptz[], $14::text[],
           $15::text[], $16::jsonb[], $18::int8[], $19::int8[], $20::int8[], $21::int8[], $22::int8[],
           $23::int8[], $24::int8[], $25::int8[])
           AS x(id, kind, linked, expired, dr, cr, amount, pending_amount, currency, code, pending_id,
             timeout_seconds, expires_at, reference, description, user_data, ddpe, ddpo, dcpe, dcpo, cdpe, cdpo,
             ccpe, ccpo)
         ON CONFLICT (id) DO NOTHING
         RETURNING 1
       ), o AS (
         INSERT INTO outbox (id, subject, type, payload)
         SELECT id, type, type, payload FROM unnest($31::uuid[], $32::text[], $33::bytea[]) AS e(id, type, payload)
       ), added AS (
         INSERT INTO pending_timeouts (pending_id, expires_at)
         SELECT * FROM unnest($34::uuid[], $35::timestamptz[])
       ), removed AS (
         DELETE FROM pending_timeouts WHERE pending_id = ANY($36::uuid[])
       )
       SELECT CASE
         WHEN (SELECT count(*) FROM a) <> cardinality($26::uuid[])
           THEN ledger_batch_conflict('40001', 'an account changed after the batch read it')
         WHEN (SELECT count(*) FROM t) <> cardinality($1::uuid[])
           THEN ledger_batch_conflict('23505', 'a transfer id of the batch is stored already')
       END`,
      [
        uuidArray(col((x) => x.id)),
        textArray(col((x) => x.kind)),
        boolArray(col((x) => x.linked)),
        boolArray(col((x) => x.expired)),
        uuidArray(col((x) => x.debitAccountId)),
        uuidArray(col((x) => x.creditAccountId)),
        numberArray(col((x) => x.amount)),
        numberArray(col((x) => x.pendingAmount)),
        textArray(col((x) => x.currency)),
        numberArray(col((x) => x.code)),
        uuidArray(col((x) => x.pendingId)),
        numberArray(col((x) => x.timeoutSeconds)),
        timestampArray(col((x) => x.expiresAt)),
        textArray(col((x) => x.reference)),
        textArray(col((x) => x.description)),
        textArray(col((x) => jsonOf(x.userData))),
        w.now,
        numberArray(col((x) => x.debitAfter.debitsPending)),
        numberArray(col((x) => x.debitAfter.debitsPosted)),
        numberArray(col((x) => x.debitAfter.creditsPending)),
        numberArray(col((x) => x.debitAfter.creditsPosted)),
        numberArray(col((x) => x.creditAfter.debitsPending)),
        numberArray(col((x) => x.creditAfter.debitsPosted)),
        numberArray(col((x) => x.creditAfter.creditsPending)),
        numberArray(col((x) => x.creditAfter.creditsPosted)),
        uuidArray(accountIds),
        numberArray(bal((b) => b.debitsPending)),
        numberArray(bal((b) => b.debitsPosted)),
        numberArray(bal((b) => b.creditsPending)),
        numberArray(bal((b) => b.creditsPosted)),
        uuidArray(w.events.map((e) => e.id)),
        textArray(w.events.map((e) => e.type)),
        byteaArray(w.events.map((e) => e.payload)),
        uuidArray(w.timeouts.map((x) => x.pendingId)),
        timestampArray(w.timeouts.map((x) => x.expiresAt)),
        uuidArray(w.resolved),
        // Versions are digits, unquoted like UUIDs.
        uuidArray(accountIds.map((id) => versions?.get(id) ?? null)),
      ],
    );
    if (w.events.length > 0) outboxWritten(db);
  },

  async transfer(db: Queryable, id: string): Promise<SequencedTransfer | undefined> {
    return (await store.transfers(db, [id])).get(id);
  },

  /** One page of an account's transfers in (created_at, seq) order, newest first unless oldestFirst. */
  async accountTransfers(db: Queryable, f: TransferFilter): Promise<SequencedTransfer[]> {
    const dir = f.oldestFirst ? "ASC" : "DESC";
    const cmp = f.oldestFirst ? ">" : "<";
    const params: unknown[] = [
      f.accountId,
      f.from ?? null,
      f.to ?? null,
      f.code ?? null,
      f.reference ?? null,
      f.after?.createdAt ?? null,
      f.after?.seq ?? null,
      f.limit,
    ];
    const side = (column: string) => `(SELECT ${TRANSFER_COLUMNS} FROM transfers
      WHERE ${column} = $1 AND ($2::timestamptz IS NULL OR created_at >= $2)
        AND ($3::timestamptz IS NULL OR created_at < $3) AND ($4::int4 IS NULL OR code = $4)
        AND ($5::text IS NULL OR reference = $5)
        AND ($6::timestamptz IS NULL OR (created_at, seq) ${cmp} ($6, $7::int8))
      ORDER BY created_at ${dir}, seq ${dir} LIMIT $8)`;
    const parts = [];
    if (f.side !== "credit") parts.push(side("debit_account_id"));
    if (f.side !== "debit") parts.push(side("credit_account_id"));
    const { rows } = await db.query<TransferRecord>(
      `SELECT * FROM (${parts.join(" UNION ALL ")}) page ORDER BY created_at ${dir}, seq ${dir} LIMIT $8`,
      params,
    );
    return rows.map(toTransfer);
  },

  /** The last transfer touching the account applied at or before `at`, or undefined. */
  async lastTransferAt(db: Queryable, accountId: string, at: Date): Promise<SequencedTransfer | undefined> {
    const side = (column: string) => `(SELECT ${TRANSFER_COLUMNS} FROM transfers
      WHERE ${column} = $1 AND created_at <= $2 ORDER BY created_at DESC, seq DESC LIMIT 1)`;
    const { rows } = await db.query<TransferRecord>(
      `SELECT * FROM (${side("debit_account_id")} UNION ALL ${side("credit_account_id")}) last
       ORDER BY created_at DESC, seq DESC LIMIT 1`,
      [accountId, at],
    );
    return rows[0] && toTransfer(rows[0]);
  },

  /** Pending transfers whose timeout has passed, oldest first. */
  async expiredPendings(db: Queryable, now: Date, limit: number): Promise<string[]> {
    const { rows } = await db.query<{ pending_id: string }>(
      "SELECT pending_id FROM pending_timeouts WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2",
      [now, limit],
    );
    return rows.map((r) => r.pending_id);
  },

  /**
   * Claims the scheduled integrity check: moves its last run to `now` when that was at least `intervalSeconds`
   * before `now` (or never). True when this call claimed it; a concurrent claimer waits for this one's transaction.
   */
  async claimIntegrityRun(db: Queryable, now: Date, intervalSeconds: number): Promise<boolean> {
    const { rowCount } = await db.query(
      `UPDATE integrity_schedule SET last_run_at = $1
        WHERE id = 1 AND (last_run_at IS NULL OR last_run_at <= $1::timestamptz - make_interval(secs => $2))`,
      [now, intervalSeconds],
    );
    return rowCount === 1;
  },

  async currencySums(db: Queryable): Promise<CurrencySums[]> {
    const { rows } = await db.query<CurrencySums>(
      `SELECT currency, count(*)::int4 AS accounts, sum(debits_pending)::text AS debits_pending,
         sum(debits_posted)::text AS debits_posted, sum(credits_pending)::text AS credits_pending,
         sum(credits_posted)::text AS credits_posted
       FROM accounts GROUP BY currency ORDER BY currency`,
    );
    return rows;
  },

  async countTransfers(db: Queryable): Promise<number> {
    const { rows } = await db.query<{ n: bigint }>("SELECT count(*) AS n FROM transfers");
    return Number(rows[0]?.n ?? 0n);
  },

  /**
   * Every account whose balances differ from the sums of its transfers or break its flags, and every account
   * id that transfers name but does not exist. One pass over the transfers.
   */
  async discrepancies(db: Queryable): Promise<AccountDiscrepancy[]> {
    const { rows } = await db.query<AccountDiscrepancy>(
      `WITH effects AS (
         SELECT debit_account_id AS account_id, currency, ${EFFECTS}, true AS debit FROM transfers
         UNION ALL
         SELECT credit_account_id, currency, ${EFFECTS}, false FROM transfers
       ), sums AS (
         SELECT account_id, string_agg(DISTINCT currency, ',') AS currencies,
           sum(CASE WHEN debit THEN pending_delta ELSE 0 END) AS dpe,
           sum(CASE WHEN debit THEN posted_delta ELSE 0 END) AS dpo,
           sum(CASE WHEN debit THEN 0 ELSE pending_delta END) AS cpe,
           sum(CASE WHEN debit THEN 0 ELSE posted_delta END) AS cpo
         FROM effects GROUP BY account_id
       )
       SELECT coalesce(a.id, s.account_id) AS account_id, a.currency, s.currencies AS transfer_currencies,
         a.debits_must_not_exceed_credits, a.credits_must_not_exceed_debits,
         a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted,
         coalesce(s.dpe, 0)::text AS sum_debits_pending, coalesce(s.dpo, 0)::text AS sum_debits_posted,
         coalesce(s.cpe, 0)::text AS sum_credits_pending, coalesce(s.cpo, 0)::text AS sum_credits_posted
       FROM accounts a FULL JOIN sums s ON s.account_id = a.id
       WHERE a.id IS NULL
         OR (s.account_id IS NOT NULL AND s.currencies <> a.currency::text)
         OR a.debits_pending <> coalesce(s.dpe, 0) OR a.debits_posted <> coalesce(s.dpo, 0)
         OR a.credits_pending <> coalesce(s.cpe, 0) OR a.credits_posted <> coalesce(s.cpo, 0)
         OR a.debits_pending < 0 OR a.credits_pending < 0
         OR (a.debits_must_not_exceed_credits AND a.debits_posted + a.debits_pending > a.credits_posted)
         OR (a.credits_must_not_exceed_debits AND a.credits_posted + a.credits_pending > a.debits_posted)
       ORDER BY 1 LIMIT 1000`,
    );
    return rows;
  },
};

const zero: Balances = { debitsPending: 0n, debitsPosted: 0n, creditsPending: 0n, creditsPosted: 0n };

// Most transfers carry no user data: skip JSON.stringify for them.
function jsonOf(data: Readonly<Record<string, string>>): string {
  for (const _ in data) return JSON.stringify(data);
  return "{}";
}

// Array parameters are sent as Postgres array literals built here: pg's generic conversion quotes and escapes
// every element one by one, which shows in profiles of large batches. UUIDs (validated at the RPC edge or
// generated), numbers, booleans and dates need no escaping; text is quoted.
function uuidArray(xs: ReadonlyArray<string | null>): string {
  return `{${xs.map((x) => x ?? "NULL").join(",")}}`;
}

function numberArray(xs: ReadonlyArray<bigint | number>): string {
  return `{${xs.join(",")}}`;
}

function boolArray(xs: readonly boolean[]): string {
  return `{${xs.map((x) => (x ? "t" : "f")).join(",")}}`;
}

function timestampArray(xs: ReadonlyArray<Date | null>): string {
  return `{${xs.map((x) => (x === null ? "NULL" : x.toISOString())).join(",")}}`;
}

const NEEDS_ESCAPE = /["\\]/;

function textArray(xs: readonly string[]): string {
  return `{${xs.map((x) => `"${NEEDS_ESCAPE.test(x) ? x.replace(/["\\]/g, "\\$&") : x}"`).join(",")}}`;
}

function byteaArray(xs: readonly Uint8Array[]): string {
  return `{${xs.map((x) => `"\\\\x${Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString("hex")}"`).join(",")}}`;
}
