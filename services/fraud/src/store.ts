import type { Queryable } from "@fintech/db";
import type { OutboxRow } from "@fintech/events";
import { outboxWritten } from "@fintech/events";
import type { RuleChange, RuleConfig } from "./rules.js";
import type { Decision, Flag } from "./scoring.js";

export interface StoredRuleVersion {
  version: number;
  rules: RuleConfig;
  changedBy: string;
  note: string;
  changes: RuleChange[];
  createdAt: Date;
}

/** A recorded score with the transaction it is about. */
export interface ScoreRow {
  transactionId: string;
  userId: string;
  type: number;
  amountMinor: bigint;
  currency: string;
  baseAmountMinor: bigint;
  baseCurrency: string;
  merchantName: string;
  merchantCategory: string;
  timezone: string;
  occurredAt: Date;
  scoredAt: Date;
  score: number;
  flags: Flag[];
  decision: Decision;
  ruleDecision: Decision;
  shadow: boolean;
  ruleVersion: number;
}

export type ReviewStatus = "open" | "approved" | "rejected";

/** One score to record: the row, whether it opens a review case, and its event. */
export interface ScoreInsert {
  row: ScoreRow;
  openReview: boolean;
  event: OutboxRow;
}

export interface ReviewRow extends ScoreRow {
  status: ReviewStatus;
  createdAt: Date;
  analystId: string | null;
  note: string | null;
  decidedAt: Date | null;
}

export interface ReviewFilter {
  status: ReviewStatus;
  userId?: string | undefined;
  minScore?: number | undefined;
  /** Keyset: cases after this (created_at, transaction_id). */
  after?: { createdAt: Date; transactionId: string } | undefined;
  limit: number;
}

interface RuleVersionRecord {
  version: number;
  rules: RuleConfig;
  changed_by: string;
  note: string;
  changes: Array<{ field: string; old_value: string; new_value: string }>;
  created_at: Date;
}

interface ScoreRecord {
  transaction_id: string;
  user_id: string;
  type: number;
  amount_minor: bigint;
  currency: string;
  base_amount_minor: bigint;
  base_currency: string;
  merchant_name: string;
  merchant_category: string;
  timezone: string;
  occurred_at: Date;
  scored_at: Date;
  score: number;
  flags: Flag[];
  decision: Decision;
  rule_decision: Decision;
  shadow: boolean;
  rule_version: number;
}

interface ReviewRecord extends ScoreRecord {
  status: ReviewStatus;
  created_at: Date;
  analyst_id: string | null;
  note: string | null;
  decided_at: Date | null;
}

const toVersion = (r: RuleVersionRecord): StoredRuleVersion => ({
  version: r.version,
  rules: r.rules,
  changedBy: r.changed_by,
  note: r.note,
  changes: r.changes.map((c) => ({ field: c.field, oldValue: c.old_value, newValue: c.new_value })),
  createdAt: r.created_at,
});

const toScore = (r: ScoreRecord): ScoreRow => ({
  transactionId: r.transaction_id,
  userId: r.user_id,
  type: r.type,
  amountMinor: r.amount_minor,
  currency: r.currency,
  baseAmountMinor: r.base_amount_minor,
  baseCurrency: r.base_currency,
  merchantName: r.merchant_name,
  merchantCategory: r.merchant_category,
  timezone: r.timezone,
  occurredAt: r.occurred_at,
  scoredAt: r.scored_at,
  score: r.score,
  flags: r.flags,
  decision: r.decision,
  ruleDecision: r.rule_decision,
  shadow: r.shadow,
  ruleVersion: r.rule_version,
});

const toReview = (r: ReviewRecord): ReviewRow => ({
  ...toScore(r),
  status: r.status,
  createdAt: r.created_at,
  analystId: r.analyst_id,
  note: r.note,
  decidedAt: r.decided_at,
});

const SCORE_COLUMNS = `s.transaction_id, s.user_id, s.type, s.amount_minor, s.currency, s.base_amount_minor,
  s.base_currency, s.merchant_name, s.merchant_category, s.timezone, s.occurred_at, s.scored_at, s.score, s.flags,
  s.decision, s.rule_decision, s.shadow, s.rule_version`;
const REVIEW_COLUMNS = `${SCORE_COLUMNS}, r.status, r.created_at, r.analyst_id, r.note, r.decided_at`;

/** The fraud schema's SQL (features aside: features.ts). Every function takes the connection or transaction. */
export const store = {
  async latestRules(db: Queryable): Promise<StoredRuleVersion | undefined> {
    const { rows } = await db.query<RuleVersionRecord>(
      "SELECT * FROM rule_versions ORDER BY version DESC LIMIT 1",
    );
    return rows[0] && toVersion(rows[0]);
  },

  /** Serialises rule changes for the rest of the transaction. */
  async lockRules(db: Queryable): Promise<void> {
    await db.query("SELECT pg_advisory_xact_lock(hashtext('fraud.rule_versions'))");
  },

  /** @returns false when the version exists already (another replica wrote the defaults first). */
  async insertRuleVersion(db: Queryable, v: StoredRuleVersion): Promise<boolean> {
    const { rowCount } = await db.query(
      `INSERT INTO rule_versions (version, rules, changed_by, note, changes, created_at)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (version) DO NOTHING`,
      [
        v.version,
        JSON.stringify(v.rules),
        v.changedBy,
        v.note,
        JSON.stringify(
          v.changes.map((c) => ({ field: c.field, old_value: c.oldValue, new_value: c.newValue })),
        ),
        v.createdAt,
      ],
    );
    return rowCount === 1;
  },

  /** Newest first, keyset-paginated by version. */
  async ruleVersions(
    db: Queryable,
    opts: { limit: number; before?: number | undefined },
  ): Promise<StoredRuleVersion[]> {
    const { rows } = await db.query<RuleVersionRecord>(
      `SELECT * FROM rule_versions WHERE ($1::int IS NULL OR version < $1) ORDER BY version DESC LIMIT $2`,
      [opts.before ?? null, opts.limit],
    );
    return rows.map(toVersion);
  },

  /**
   * Records scores, the review cases of those with `openReview`, and their outbox events, in one statement (one
   * transaction, one round trip, one WAL flush for the lot). The outbox rows are the ones libs/events `enqueue`
   * writes; the relay publishes them. Transaction ids must be distinct within one call.
   * @returns the transaction ids recorded now; the others had been scored before, and nothing was written for them.
   */
  async insertScores(db: Queryable, items: readonly ScoreInsert[]): Promise<Set<string>> {
    const col = <T>(f: (i: ScoreInsert) => T) => items.map(f);
    const { rows } = await db.query<{ transaction_id: string }>(
      `WITH i AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::int2[], $4::int8[], $5::text[], $6::int8[], $7::text[],
           $8::text[], $9::text[], $10::text[], $11::timestamptz[], $12::timestamptz[], $13::int2[], $14::text[],
           $15::text[], $16::text[], $17::bool[], $18::int4[], $19::bool[], $20::uuid[], $21::text[], $22::bytea[], $23::text[])
           AS t(transaction_id, user_id, type, amount_minor, currency, base_amount_minor, base_currency, merchant_name,
             merchant_category, timezone, occurred_at, scored_at, score, flags, decision, rule_decision, shadow,
             rule_version, open_review, event_id, event_type, payload, event_headers)),
       s AS (
         INSERT INTO scores (transaction_id, user_id, type, amount_minor, currency, base_amount_minor, base_currency,
           merchant_name, merchant_category, timezone, occurred_at, scored_at, score, flags, decision, rule_decision,
           shadow, rule_version)
         SELECT transaction_id, user_id, type, amount_minor, currency, base_amount_minor, base_currency, merchant_name,
           merchant_category, timezone, occurred_at, scored_at, score, flags::jsonb, decision, rule_decision, shadow,
           rule_version
         FROM i
         ON CONFLICT (transaction_id) DO NOTHING RETURNING transaction_id),
       r AS (
         INSERT INTO reviews (transaction_id, user_id, score, status, created_at)
         SELECT i.transaction_id, i.user_id, i.score, 'open', i.scored_at FROM i JOIN s USING (transaction_id)
          WHERE i.open_review RETURNING 1),
       o AS (
         INSERT INTO outbox (id, subject, type, payload, headers)
         SELECT i.event_id, i.event_type, i.event_type, i.payload, i.event_headers::jsonb
           FROM i JOIN s USING (transaction_id) RETURNING 1)
       SELECT transaction_id FROM s`,
      [
        col((i) => i.row.transactionId),
        col((i) => i.row.userId),
        col((i) => i.row.type),
        col((i) => i.row.amountMinor),
        col((i) => i.row.currency),
        col((i) => i.row.baseAmountMinor),
        col((i) => i.row.baseCurrency),
        col((i) => i.row.merchantName),
        col((i) => i.row.merchantCategory),
        col((i) => i.row.timezone),
        col((i) => i.row.occurredAt),
        col((i) => i.row.scoredAt),
        col((i) => i.row.score),
        col((i) => JSON.stringify(i.row.flags)),
        col((i) => i.row.decision),
        col((i) => i.row.ruleDecision),
        col((i) => i.row.shadow),
        col((i) => i.row.ruleVersion),
        col((i) => i.openReview),
        col((i) => i.event.id),
        col((i) => i.event.type),
        col((i) => i.event.payload),
        col((i) => JSON.stringify(i.event.headers)),
      ],
    );
    if (rows.length > 0) outboxWritten(db);
    return new Set(rows.map((r) => r.transaction_id));
  },

  async getScore(db: Queryable, transactionId: string): Promise<ScoreRow | undefined> {
    const { rows } = await db.query<ScoreRecord>(
      `SELECT ${SCORE_COLUMNS} FROM scores s WHERE s.transaction_id = $1`,
      [transactionId],
    );
    return rows[0] && toScore(rows[0]);
  },

  async getReview(
    db: Queryable,
    transactionId: string,
    opts: { forUpdate?: boolean } = {},
  ): Promise<ReviewRow | undefined> {
    const { rows } = await db.query<ReviewRecord>(
      `SELECT ${REVIEW_COLUMNS} FROM reviews r JOIN scores s USING (transaction_id)
        WHERE r.transaction_id = $1${opts.forUpdate ? " FOR UPDATE OF r" : ""}`,
      [transactionId],
    );
    return rows[0] && toReview(rows[0]);
  },

  async decideReview(
    db: Queryable,
    d: { transactionId: string; status: ReviewStatus; analystId: string; note: string; decidedAt: Date },
  ): Promise<void> {
    await db.query(
      `UPDATE reviews SET status = $2, analyst_id = $3, note = $4, decided_at = $5
        WHERE transaction_id = $1 AND status = 'open'`,
      [d.transactionId, d.status, d.analystId, d.note, d.decidedAt],
    );
  },

  /** Oldest first (created_at, then transaction id). */
  async listReviews(db: Queryable, f: ReviewFilter): Promise<ReviewRow[]> {
    const { rows } = await db.query<ReviewRecord>(
      `SELECT ${REVIEW_COLUMNS} FROM reviews r JOIN scores s USING (transaction_id)
        WHERE r.status = $1
          AND ($2::text IS NULL OR r.user_id = $2)
          AND ($3::int IS NULL OR r.score >= $3)
          AND ($4::timestamptz IS NULL OR (r.created_at, r.transaction_id) > ($4, $5))
        ORDER BY r.created_at, r.transaction_id
        LIMIT $6`,
      [
        f.status,
        f.userId ?? null,
        f.minScore ?? null,
        f.after?.createdAt ?? null,
        f.after?.transactionId ?? "",
        f.limit,
      ],
    );
    return rows.map(toReview);
  },

  /** Aggregates of the scores taken, and review cases opened, in [from, to). */
  async stats(db: Queryable, from: Date, to: Date) {
    const range = [from, to];
    const [totals, buckets, decisions, flags, reviews] = await Promise.all([
      db.query<{ scored: bigint; shadow: bigint; average: string | null }>(
        `SELECT count(*) AS scored, count(*) FILTER (WHERE shadow) AS shadow, round(avg(score), 2)::text AS average
           FROM scores WHERE scored_at >= $1 AND scored_at < $2`,
        range,
      ),
      db.query<{ bucket: number; count: bigint }>(
        `SELECT least(score / 10, 9)::int AS bucket, count(*) AS count
           FROM scores WHERE scored_at >= $1 AND scored_at < $2 GROUP BY 1`,
        range,
      ),
      db.query<{ kind: "decision" | "rule"; decision: Decision; count: bigint }>(
        `SELECT 'decision' AS kind, decision, count(*) AS count
           FROM scores WHERE scored_at >= $1 AND scored_at < $2 GROUP BY decision
         UNION ALL
         SELECT 'rule', rule_decision, count(*)
           FROM scores WHERE scored_at >= $1 AND scored_at < $2 GROUP BY rule_decision`,
        range,
      ),
      db.query<{ rule: string; count: bigint }>(
        `SELECT f->>'rule' AS rule, count(*) AS count
           FROM scores, jsonb_array_elements(flags) AS f
          WHERE scored_at >= $1 AND scored_at < $2 GROUP BY 1 ORDER BY 1`,
        range,
      ),
      db.query<{ status: ReviewStatus; count: bigint }>(
        `SELECT status, count(*) AS count FROM reviews WHERE created_at >= $1 AND created_at < $2 GROUP BY status`,
        range,
      ),
    ]);
    return {
      scored: totals.rows[0]?.scored ?? 0n,
      shadow: totals.rows[0]?.shadow ?? 0n,
      average: totals.rows[0]?.average ?? null,
      buckets: buckets.rows,
      decisions: decisions.rows.filter((r) => r.kind === "decision"),
      ruleDecisions: decisions.rows.filter((r) => r.kind === "rule"),
      flags: flags.rows,
      reviews: reviews.rows,
    };
  },
};
