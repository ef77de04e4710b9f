import type { JsonObject } from "@bufbuild/protobuf";
import type { Queryable } from "@fintech/db";

// The audit trail's SQL: records (append-only), their hash chain and its signed checkpoints.

/** A record to append, as an audit event brought it. */
export interface NewAuditRecord {
  eventId: string;
  service: string;
  action: string;
  actorKind: string;
  actorId: string;
  actorRoles: string[];
  actorCredential: string;
  requestId: string;
  clientIp: string;
  subjectType: string;
  subjectId: string;
  before: JsonObject | undefined;
  after: JsonObject | undefined;
  occurredAt: Date;
}

/** A stored record. Times are also kept as the exact text the chain hashes (microseconds, UTC). */
export interface AuditRecordRow extends NewAuditRecord {
  seq: bigint;
  recordedAt: Date;
  occurredAtText: string;
  recordedAtText: string;
}

/** One link of the chain. */
export interface ChainLink {
  seq: bigint;
  prevHash: Buffer;
  hash: Buffer;
}

/** A signed chain head. */
export interface Checkpoint {
  seq: bigint;
  hash: Buffer;
  publicKey: Buffer;
  signature: Buffer;
  createdAt: Date;
}

/** Filters of the record list; every one optional. */
export interface AuditFilter {
  actor?: string | undefined;
  action?: string | undefined;
  subjectType?: string | undefined;
  subjectId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

interface RecordDb {
  seq: bigint;
  event_id: string;
  service: string;
  action: string;
  actor_kind: string;
  actor_id: string;
  actor_roles: string[];
  actor_credential: string;
  request_id: string;
  client_ip: string;
  subject_type: string;
  subject_id: string;
  before: JsonObject | null;
  after: JsonObject | null;
  occurred_at: Date;
  recorded_at: Date;
  occurred_at_text: string;
  recorded_at_text: string;
}

const UTC_TEXT = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;
const RECORD_COLUMNS = `r.seq, r.event_id, r.service, r.action, r.actor_kind, r.actor_id, r.actor_roles,
  r.actor_credential, r.request_id, r.client_ip, r.subject_type, r.subject_id, r.before, r.after, r.occurred_at,
  r.recorded_at, to_char(r.occurred_at AT TIME ZONE 'UTC', ${UTC_TEXT}) AS occurred_at_text,
  to_char(r.recorded_at AT TIME ZONE 'UTC', ${UTC_TEXT}) AS recorded_at_text`;

const toRecord = (r: RecordDb): AuditRecordRow => ({
  seq: r.seq,
  eventId: r.event_id,
  service: r.service,
  action: r.action,
  actorKind: r.actor_kind,
  actorId: r.actor_id,
  actorRoles: r.actor_roles,
  actorCredential: r.actor_credential,
  requestId: r.request_id,
  clientIp: r.client_ip,
  subjectType: r.subject_type,
  subjectId: r.subject_id,
  before: r.before ?? undefined,
  after: r.after ?? undefined,
  occurredAt: r.occurred_at,
  recordedAt: r.recorded_at,
  occurredAtText: r.occurred_at_text,
  recordedAtText: r.recorded_at_text,
});

/** A stored record with its chain link, or either alone where the other is missing (what verification walks). */
export interface WalkRow {
  seq: bigint;
  record: AuditRecordRow | undefined;
  link: ChainLink | undefined;
}

export const auditStore = {
  /**
   * Appends records in one statement, under a transaction advisory lock taken before any seq is drawn, so that
   * appends commit in seq order: a sealer that sees seq N has seen every record below it. The lock is the
   * statement's own: the EXISTS over it is a one-time filter that runs before the first row is read. An event
   * id already stored is skipped.
   */
  async append(tx: Queryable, records: readonly NewAuditRecord[], recordedAt: Date): Promise<number> {
    if (records.length === 0) return 0;
    const { rowCount } = await tx.query(
      `WITH locked AS MATERIALIZED (
         SELECT pg_advisory_xact_lock(hashtext(current_schema()), hashtext('audit_records'))
       )
       INSERT INTO audit_records (event_id, service, action, actor_kind, actor_id, actor_roles, actor_credential,
         request_id, client_ip, subject_type, subject_id, before, after, occurred_at, recorded_at)
       SELECT x.event_id, x.service, x.action, x.actor_kind, x.actor_id,
         ARRAY(SELECT jsonb_array_elements_text(x.actor_roles)), x.actor_credential, x.request_id, x.client_ip,
         x.subject_type, x.subject_id, x.before, x.after, x.occurred_at, $2
       FROM jsonb_to_recordset($1::jsonb) AS x(event_id text, service text, action text, actor_kind text,
         actor_id text, actor_roles jsonb, actor_credential text, request_id text, client_ip text,
         subject_type text, subject_id text, before jsonb, after jsonb, occurred_at timestamptz, ord int)
       WHERE EXISTS (SELECT FROM locked)
       ORDER BY x.ord
       ON CONFLICT (event_id) DO NOTHING`,
      [
        JSON.stringify(
          records.map((r, ord) => ({
            event_id: r.eventId,
            service: r.service,
            action: r.action,
            actor_kind: r.actorKind,
            actor_id: r.actorId,
            actor_roles: r.actorRoles,
            actor_credential: r.actorCredential,
            request_id: r.requestId,
            client_ip: r.clientIp,
            subject_type: r.subjectType,
            subject_id: r.subjectId,
            before: r.before ?? null,
            after: r.after ?? null,
            occurred_at: r.occurredAt.toISOString(),
            ord,
          })),
        ),
        recordedAt,
      ],
    );
    return rowCount ?? 0;
  },

  /** Records after `seq`, in seq order, at most `limit`. */
  async recordsAfter(db: Queryable, seq: bigint, limit: number): Promise<AuditRecordRow[]> {
    const { rows } = await db.query<RecordDb>(
      `SELECT ${RECORD_COLUMNS} FROM audit_records r WHERE r.seq > $1 ORDER BY r.seq LIMIT $2`,
      [seq, limit],
    );
    return rows.map(toRecord);
  },

  /** The newest link, undefined for an empty chain. */
  async head(db: Queryable): Promise<ChainLink | undefined> {
    const { rows } = await db.query<{ seq: bigint; prev_hash: Buffer; hash: Buffer }>(
      "SELECT seq, prev_hash, hash FROM audit_chain ORDER BY seq DESC LIMIT 1",
    );
    const r = rows[0];
    return r && { seq: r.seq, prevHash: r.prev_hash, hash: r.hash };
  },

  async appendLinks(tx: Queryable, links: readonly ChainLink[], sealedAt: Date): Promise<void> {
    if (links.length === 0) return;
    await tx.query(
      `INSERT INTO audit_chain (seq, prev_hash, hash, sealed_at)
       SELECT seq, decode(prev_hash, 'hex'), decode(hash, 'hex'), $2
       FROM jsonb_to_recordset($1::jsonb) AS x(seq bigint, prev_hash text, hash text)`,
      [
        JSON.stringify(
          links.map((l) => ({
            seq: l.seq.toString(),
            prev_hash: l.prevHash.toString("hex"),
            hash: l.hash.toString("hex"),
          })),
        ),
        sealedAt,
      ],
    );
  },

  async lastCheckpoint(db: Queryable): Promise<Checkpoint | undefined> {
    return (await this.checkpoints(db, { newestOnly: true }))[0];
  },

  /** Every checkpoint in seq order (or only the newest). */
  async checkpoints(db: Queryable, opts: { newestOnly?: boolean } = {}): Promise<Checkpoint[]> {
    const { rows } = await db.query<{
      seq: bigint;
      hash: Buffer;
      public_key: Buffer;
      signature: Buffer;
      created_at: Date;
    }>(
      opts.newestOnly === true
        ? "SELECT seq, hash, public_key, signature, created_at FROM audit_checkpoints ORDER BY id DESC LIMIT 1"
        : "SELECT seq, hash, public_key, signature, created_at FROM audit_checkpoints ORDER BY seq, id",
    );
    return rows.map((r) => ({
      seq: r.seq,
      hash: r.hash,
      publicKey: r.public_key,
      signature: r.signature,
      createdAt: r.created_at,
    }));
  },

  async addCheckpoint(tx: Queryable, c: Checkpoint): Promise<void> {
    await tx.query(
      `INSERT INTO audit_checkpoints (seq, hash, public_key, signature, created_at) VALUES ($1, $2, $3, $4, $5)`,
      [c.seq, c.hash, c.publicKey, c.signature, c.createdAt],
    );
  },

  /** Records and links after `seq` in seq order, each with the other where it exists, at most `limit`. */
  async walk(db: Queryable, after: bigint, limit: number): Promise<WalkRow[]> {
    const { rows } = await db.query<
      Partial<RecordDb> & {
        pos: bigint;
        link_seq: bigint | null;
        prev_hash: Buffer | null;
        hash: Buffer | null;
      }
    >(
      `SELECT coalesce(c.seq, r.seq) AS pos, c.seq AS link_seq, c.prev_hash, c.hash, ${RECORD_COLUMNS}
       FROM audit_chain c FULL JOIN audit_records r ON r.seq = c.seq
       WHERE coalesce(c.seq, r.seq) > $1
       ORDER BY pos LIMIT $2`,
      [after, limit],
    );
    return rows.map((r) => ({
      seq: r.pos,
      record: r.seq === undefined || r.seq === null ? undefined : toRecord(r as RecordDb),
      link:
        r.link_seq === null || r.prev_hash === null || r.hash === null
          ? undefined
          : { seq: r.link_seq, prevHash: r.prev_hash, hash: r.hash },
    }));
  },

  /** Records matching `filter`, newest first, before seq `before` when given; `limit` rows at most. */
  async list(
    db: Queryable,
    filter: AuditFilter,
    limit: number,
    before?: bigint,
  ): Promise<Array<AuditRecordRow & { hash: Buffer | undefined }>> {
    const where: string[] = [];
    const values: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      values.push(value);
      where.push(sql.replace("?", `$${values.length}`));
    };
    if (filter.actor !== undefined) add("r.actor_id = ?", filter.actor);
    if (filter.action !== undefined) add("r.action = ?", filter.action);
    if (filter.subjectType !== undefined) add("r.subject_type = ?", filter.subjectType);
    if (filter.subjectId !== undefined) add("r.subject_id = ?", filter.subjectId);
    if (filter.from !== undefined) add("r.occurred_at >= ?", filter.from);
    if (filter.to !== undefined) add("r.occurred_at < ?", filter.to);
    if (before !== undefined) add("r.seq < ?", before);
    values.push(limit);
    const { rows } = await db.query<RecordDb & { hash: Buffer | null }>(
      `SELECT ${RECORD_COLUMNS}, c.hash FROM audit_records r LEFT JOIN audit_chain c ON c.seq = r.seq
       ${where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`}
       ORDER BY r.seq DESC LIMIT $${values.length}`,
      values,
    );
    return rows.map((r) => ({ ...toRecord(r), hash: r.hash ?? undefined }));
  },
};
