import type { Queryable } from "@fintech/db";
import type { MailContent, MailKind, MailPreferences, TransactionFacts } from "./mail-model.js";
import { kindOf } from "./mail-model.js";

/** A queued mail as the sender claims it. */
export interface QueuedMail {
  id: string;
  eventId: string;
  userId: string;
  content: MailContent;
  attempts: number;
  /** The user's switches as they are when the mail is claimed (every kind on for one who never changed them). */
  preferences: MailPreferences;
  /** The user's address as kept here; undefined when no event of identity's has told it yet. */
  recipient: Recipient | undefined;
}

/** A mail to queue: the event it is about, its user and what it says. */
export interface NewMail {
  eventId: string;
  userId: string;
  content: MailContent;
}

/**
 * How an attempt at a claimed mail ended: `at` is when (a finished mail's finished_at), `retryAt` when a retried
 * one is due again, `error` what went wrong.
 */
export type MailSettlement =
  | { id: string; outcome: "sent" | "failed" | "skipped"; at: Date; error?: string | undefined }
  | { id: string; outcome: "retried"; at: Date; retryAt: Date; error: string };

/** A user's address as identity's events (or identity itself) told it. */
export interface Recipient {
  email: string;
  /** A deleted user gets no more mail. */
  deleted: boolean;
}

interface QueueRow {
  id: string;
  event_id: string;
  user_id: string;
  content: MailContent;
  attempts: number;
  receipts: boolean | null;
  reviews: boolean | null;
  email: string | null;
  deleted: boolean | null;
}

/** The SQL of e-mail notifications: the queue, the users' addresses and their switches. */
export const mailStore = {
  /**
   * Queues a batch's mails, each event's once: the key is (event id, template), so a redelivered event, or the
   * same event handled twice, never queues a second mail. A mail whose kind (`kindOf`) its user switched off is
   * left out: the switches are read in the same statement. Returns how many were queued.
   */
  async enqueueAll(db: Queryable, mails: readonly NewMail[], at: Date): Promise<number> {
    if (mails.length === 0) return 0;
    const { rowCount } = await db.query(
      `INSERT INTO mail_queue (event_id, template, user_id, content, next_attempt_at, created_at)
       SELECT m.event_id, m.template, m.user_id, m.content, $6, $6
       FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[], $5::text[])
         WITH ORDINALITY AS m (event_id, template, user_id, content, kind, ord)
         LEFT JOIN mail_preferences p ON p.user_id = m.user_id
       WHERE CASE m.kind
         WHEN 'receipts' THEN coalesce(p.receipts, true)
         WHEN 'reviews' THEN coalesce(p.reviews, true)
         ELSE m.kind IS NULL END
       ORDER BY m.ord
       ON CONFLICT (event_id, template) DO NOTHING`,
      [
        mails.map((m) => m.eventId),
        mails.map((m) => m.content.template),
        mails.map((m) => m.userId),
        mails.map((m) => JSON.stringify(m.content)),
        mails.map((m) => kindOf(m.content) ?? null),
        at,
      ],
    );
    return rowCount ?? 0;
  },

  /**
   * Up to `limit` pending mails due at `now`, the oldest first, locked for the caller's transaction; rows other
   * senders hold are skipped (FOR UPDATE SKIP LOCKED), so replicas never send the same mail at once.
   */
  async claimDue(db: Queryable, now: Date, limit: number): Promise<QueuedMail[]> {
    const { rows } = await db.query<QueueRow>(
      `SELECT q.id::text, q.event_id, q.user_id, q.content, q.attempts, p.receipts, p.reviews, r.email, r.deleted
       FROM mail_queue q
       LEFT JOIN mail_preferences p ON p.user_id = q.user_id
       LEFT JOIN mail_recipients r ON r.user_id = q.user_id
       WHERE q.status = 'pending' AND q.next_attempt_at <= $1
       ORDER BY q.next_attempt_at, q.id LIMIT $2
       FOR UPDATE OF q SKIP LOCKED`,
      [now, limit],
    );
    return rows.map((row) => ({
      id: row.id,
      eventId: row.event_id,
      userId: row.user_id,
      content: row.content,
      attempts: row.attempts,
      preferences: { receipts: row.receipts ?? true, reviews: row.reviews ?? true },
      recipient: row.email === null ? undefined : { email: row.email, deleted: row.deleted ?? false },
    }));
  },

  /**
   * Writes how the attempts at claimed mails ended, in one statement: sent, failed for good and skipped
   * (the user switched its kind off, or has no address) end a mail; retried counts a failed attempt and puts
   * it back in the queue until its `retryAt`. A skipped mail counts no attempt.
   */
  async settle(db: Queryable, outcomes: readonly MailSettlement[]): Promise<void> {
    if (outcomes.length === 0) return;
    await db.query(
      `UPDATE mail_queue q SET
         status = o.status,
         attempts = q.attempts + o.tried,
         next_attempt_at = coalesce(o.retry_at, q.next_attempt_at),
         finished_at = CASE WHEN o.status = 'pending' THEN q.finished_at ELSE o.at END,
         last_error = o.error
       FROM unnest($1::bigint[], $2::text[], $3::int[], $4::timestamptz[], $5::timestamptz[], $6::text[])
         AS o (id, status, tried, retry_at, at, error)
       WHERE q.id = o.id`,
      [
        outcomes.map((o) => o.id),
        outcomes.map((o) => (o.outcome === "retried" ? "pending" : o.outcome)),
        outcomes.map((o) => (o.outcome === "skipped" ? 0 : 1)),
        outcomes.map((o) => (o.outcome === "retried" ? o.retryAt : null)),
        outcomes.map((o) => o.at),
        outcomes.map((o) => o.error ?? null),
      ],
    );
  },

  /**
   * Deletes up to `limit` mails that finished (sent, failed, skipped) before `before`, oldest first; returns how
   * many. A redelivery of their events is long over by then (JetStream gives up within minutes), so their keys
   * are no longer needed.
   */
  async pruneFinished(db: Queryable, before: Date, limit: number): Promise<number> {
    const { rowCount } = await db.query(
      `DELETE FROM mail_queue WHERE id IN (
         SELECT id FROM mail_queue WHERE status <> 'pending' AND finished_at < $1 ORDER BY finished_at LIMIT $2
       )`,
      [before, limit],
    );
    return rowCount ?? 0;
  },

  /** Pending mails (a gauge for the metrics). */
  async pendingCount(db: Queryable): Promise<number> {
    const { rows } = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM mail_queue WHERE status = 'pending'",
    );
    return rows[0]?.n ?? 0;
  },

  /** Keeps what review notices say about a batch's payments, in one statement; a repeat changes nothing. */
  async putTransactions(
    db: Queryable,
    payments: ReadonlyArray<TransactionFacts & { transactionId: string }>,
    at: Date,
  ): Promise<void> {
    if (payments.length === 0) return;
    await db.query(
      `INSERT INTO mail_transactions (transaction_id, amount_minor, currency, merchant_name, created_at)
       SELECT t.transaction_id, t.amount_minor, t.currency, t.merchant_name, $5
       FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[])
         AS t (transaction_id, amount_minor, currency, merchant_name)
       ON CONFLICT (transaction_id) DO NOTHING`,
      [
        payments.map((t) => t.transactionId),
        payments.map((t) => t.amountMinor.toString()),
        payments.map((t) => t.currency),
        payments.map((t) => t.merchantName),
        at,
      ],
    );
  },

  /** What review notices say about these payments, by transaction id, for those the wallet told. */
  async getTransactions(
    db: Queryable,
    transactionIds: readonly string[],
  ): Promise<Map<string, TransactionFacts>> {
    if (transactionIds.length === 0) return new Map();
    const { rows } = await db.query<{
      transaction_id: string;
      amount_minor: bigint;
      currency: string;
      merchant_name: string;
    }>(
      `SELECT transaction_id, amount_minor, currency, merchant_name FROM mail_transactions
       WHERE transaction_id = ANY ($1::text[])`,
      [[...new Set(transactionIds)]],
    );
    return new Map(
      rows.map((r) => [
        r.transaction_id,
        { amountMinor: r.amount_minor, currency: r.currency, merchantName: r.merchant_name },
      ]),
    );
  },

  /** Deletes up to `limit` payments' facts kept since before `before`; returns how many. */
  async pruneTransactions(db: Queryable, before: Date, limit: number): Promise<number> {
    const { rowCount } = await db.query(
      `DELETE FROM mail_transactions WHERE transaction_id IN (
         SELECT transaction_id FROM mail_transactions WHERE created_at < $1 ORDER BY created_at LIMIT $2
       )`,
      [before, limit],
    );
    return rowCount ?? 0;
  },

  /**
   * Keeps a user's address as of `version` (when identity made the change): an older state than the one kept
   * changes nothing, since events of one user may arrive out of order.
   */
  async putRecipient(db: Queryable, userId: string, recipient: Recipient, version: Date): Promise<void> {
    await db.query(
      `INSERT INTO mail_recipients (user_id, email, deleted, version) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id) DO UPDATE SET email = EXCLUDED.email, deleted = EXCLUDED.deleted,
         version = EXCLUDED.version
       WHERE mail_recipients.version <= EXCLUDED.version`,
      [userId, recipient.email, recipient.deleted, version],
    );
  },

  /** A user's switches; every kind is on for a user who never changed them. */
  async getPreferences(db: Queryable, userId: string): Promise<MailPreferences & { updatedAt?: Date }> {
    const { rows } = await db.query<{ receipts: boolean; reviews: boolean; updated_at: Date }>(
      "SELECT receipts, reviews, updated_at FROM mail_preferences WHERE user_id = $1",
      [userId],
    );
    const row = rows[0];
    return row === undefined
      ? { receipts: true, reviews: true }
      : { receipts: row.receipts, reviews: row.reviews, updatedAt: row.updated_at };
  },

  /** Changes the switches given, leaving the others as they are; returns them all. */
  async updatePreferences(
    db: Queryable,
    userId: string,
    change: Partial<Record<MailKind, boolean>>,
    at: Date,
  ): Promise<MailPreferences & { updatedAt: Date }> {
    const { rows } = await db.query<{ receipts: boolean; reviews: boolean; updated_at: Date }>(
      `INSERT INTO mail_preferences (user_id, receipts, reviews, updated_at)
       VALUES ($1, coalesce($2, true), coalesce($3, true), $4)
       ON CONFLICT (user_id) DO UPDATE SET receipts = coalesce($2, mail_preferences.receipts),
         reviews = coalesce($3, mail_preferences.reviews), updated_at = $4
       RETURNING receipts, reviews, updated_at`,
      [userId, change.receipts ?? null, change.reviews ?? null, at],
    );
    const row = rows[0];
    if (row === undefined) throw new Error("the preferences upsert returned no row");
    return { receipts: row.receipts, reviews: row.reviews, updatedAt: row.updated_at };
  },
};
