import type { Queryable } from "@fintech/db";
import type { MailContent, MailKind, MailPreferences, TransactionFacts } from "./mail-model.js";

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
   * Queues the mail of one event once: the key is (event id, template), so a redelivered event, or the same
   * event handled twice, never queues a second mail. False when it was already queued.
   */
  async enqueue(
    db: Queryable,
    mail: { eventId: string; userId: string; content: MailContent; at: Date },
  ): Promise<boolean> {
    const { rowCount } = await db.query(
      `INSERT INTO mail_queue (event_id, template, user_id, content, next_attempt_at, created_at)
       VALUES ($1, $2, $3, $4, $5, $5)
       ON CONFLICT (event_id, template) DO NOTHING`,
      [mail.eventId, mail.content.template, mail.userId, JSON.stringify(mail.content), mail.at],
    );
    return rowCount === 1;
  },

  /**
   * The oldest pending mail due at `now`, locked for the caller's transaction; rows other senders hold are
   * skipped (FOR UPDATE SKIP LOCKED), so replicas never send the same mail at once.
   */
  async claimDue(db: Queryable, now: Date): Promise<QueuedMail | undefined> {
    const { rows } = await db.query<QueueRow>(
      `SELECT q.id::text, q.event_id, q.user_id, q.content, q.attempts, p.receipts, p.reviews, r.email, r.deleted
       FROM mail_queue q
       LEFT JOIN mail_preferences p ON p.user_id = q.user_id
       LEFT JOIN mail_recipients r ON r.user_id = q.user_id
       WHERE q.status = 'pending' AND q.next_attempt_at <= $1
       ORDER BY q.next_attempt_at, q.id LIMIT 1
       FOR UPDATE OF q SKIP LOCKED`,
      [now],
    );
    const row = rows[0];
    return (
      row && {
        id: row.id,
        eventId: row.event_id,
        userId: row.user_id,
        content: row.content,
        attempts: row.attempts,
        preferences: { receipts: row.receipts ?? true, reviews: row.reviews ?? true },
        recipient: row.email === null ? undefined : { email: row.email, deleted: row.deleted ?? false },
      }
    );
  },

  /** Ends a mail: sent, failed for good, or skipped (the user switched its kind off, or has no address). */
  async finish(
    db: Queryable,
    id: string,
    outcome: { status: "sent" | "failed" | "skipped"; at: Date; error?: string | undefined },
  ): Promise<void> {
    await db.query(
      `UPDATE mail_queue SET status = $2, attempts = attempts + $3, finished_at = $4, last_error = $5 WHERE id = $1`,
      [id, outcome.status, outcome.status === "skipped" ? 0 : 1, outcome.at, outcome.error ?? null],
    );
  },

  /** Counts a failed attempt and puts the mail back in the queue until `retryAt`. */
  async retryLater(db: Queryable, id: string, retryAt: Date, error: string): Promise<void> {
    await db.query(
      `UPDATE mail_queue SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3 WHERE id = $1`,
      [id, retryAt, error],
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

  /** Keeps what a review notice says about a payment; a repeat changes nothing. */
  async putTransaction(
    db: Queryable,
    t: TransactionFacts & { transactionId: string; at: Date },
  ): Promise<void> {
    await db.query(
      `INSERT INTO mail_transactions (transaction_id, amount_minor, currency, merchant_name, created_at)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (transaction_id) DO NOTHING`,
      [t.transactionId, t.amountMinor, t.currency, t.merchantName, t.at],
    );
  },

  async getTransaction(db: Queryable, transactionId: string): Promise<TransactionFacts | undefined> {
    const { rows } = await db.query<{ amount_minor: bigint; currency: string; merchant_name: string }>(
      "SELECT amount_minor, currency, merchant_name FROM mail_transactions WHERE transaction_id = $1",
      [transactionId],
    );
    const row = rows[0];
    return row && { amountMinor: row.amount_minor, currency: row.currency, merchantName: row.merchant_name };
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
