import type { Queryable } from "@fintech/db";
import type { LineError } from "./import-rows.js";
import type { ImportProgress } from "./import-runner.js";

export type ImportStatus = "running" | "completed" | "failed";

/** An import as stored (without its CSV). */
export interface ImportRecord {
  id: string;
  status: ImportStatus;
  fileName: string;
  fileSha256: string;
  userId: string;
  timezone: string;
  replay: boolean;
  speed: number;
  bytesTotal: number;
  bytesProcessed: number;
  /** Lines after the header: an estimate of the rows. */
  rowsTotal: number;
  rowsProcessed: number;
  rowsImported: number;
  rowsFailed: number;
  errors: LineError[];
  errorsTruncated: boolean;
  rowsPerSecond: number;
  duplicateOf: string | undefined;
  failure: string;
  createdBy: string;
  createdAt: Date;
  finishedAt: Date | undefined;
}

interface Row {
  id: string;
  status: ImportStatus;
  file_name: string;
  file_sha256: string;
  user_id: string;
  timezone: string;
  replay: boolean;
  speed: number;
  bytes_total: bigint;
  bytes_processed: bigint;
  rows_total: bigint;
  rows_processed: bigint;
  rows_imported: bigint;
  rows_failed: bigint;
  errors: LineError[];
  errors_truncated: boolean;
  rows_per_second: number;
  duplicate_of: string | null;
  failure: string;
  created_by: string;
  created_at: Date;
  finished_at: Date | null;
}

const COLUMNS = `id, status, file_name, file_sha256, user_id, timezone, replay, speed, bytes_total, bytes_processed,
  rows_total, rows_processed, rows_imported, rows_failed, errors, errors_truncated, rows_per_second, duplicate_of, failure,
  created_by, created_at, finished_at`;

const toRecord = (r: Row): ImportRecord => ({
  id: r.id,
  status: r.status,
  fileName: r.file_name,
  fileSha256: r.file_sha256,
  userId: r.user_id,
  timezone: r.timezone,
  replay: r.replay,
  speed: r.speed,
  bytesTotal: Number(r.bytes_total),
  bytesProcessed: Number(r.bytes_processed),
  rowsTotal: Number(r.rows_total),
  rowsProcessed: Number(r.rows_processed),
  rowsImported: Number(r.rows_imported),
  rowsFailed: Number(r.rows_failed),
  errors: r.errors,
  errorsTruncated: r.errors_truncated,
  rowsPerSecond: r.rows_per_second,
  duplicateOf: r.duplicate_of ?? undefined,
  failure: r.failure,
  createdBy: r.created_by,
  createdAt: r.created_at,
  finishedAt: r.finished_at ?? undefined,
});

/** What a new import is. */
export interface NewImport {
  id: string;
  fileName: string;
  fileSha256: string;
  userId: string;
  timezone: string;
  replay: boolean;
  speed: number;
  /** The file, kept until the import ends so another replica can take it over; null when the import command
   * line runs it (it reads the file itself, and nobody else can take it over). */
  csv: string | null;
  bytesTotal: number;
  rowsTotal: number;
  createdBy: string;
  createdAt: Date;
}

/** An import to run: its record and its CSV. */
export type ClaimedImport = ImportRecord & { csv: string };

/** The analytics schema's SQL for imports. */
export const importStore = {
  /**
   * Inserts a running import; duplicate_of is the earliest import of the same file for the same user. When that
   * one completed, the new one is stored completed at once with nothing imported (its rows would all be skipped).
   */
  async insert(db: Queryable, i: NewImport): Promise<ImportRecord> {
    const { rows } = await db.query<Row>(
      `WITH earlier AS (
         SELECT id, status FROM imports WHERE file_sha256 = $3 AND user_id = $4 ORDER BY created_at, id LIMIT 1
       ), done AS (SELECT coalesce((SELECT status = 'completed' FROM earlier), false) AS dup)
       INSERT INTO imports (id, status, file_name, file_sha256, user_id, timezone, replay, speed, csv, bytes_total,
         bytes_processed, rows_total, duplicate_of, created_by, created_at, heartbeat_at, finished_at)
       SELECT $1, CASE WHEN dup THEN 'completed' ELSE 'running' END, $2, $3, $4, $5, $6, $7,
         CASE WHEN dup THEN NULL ELSE $8::text END, $9::bigint, CASE WHEN dup THEN $9::bigint ELSE 0 END, $10,
         (SELECT id FROM earlier), $11, $12::timestamptz, now(), CASE WHEN dup THEN $12::timestamptz END
         FROM done
       RETURNING ${COLUMNS}`,
      [
        i.id,
        i.fileName,
        i.fileSha256,
        i.userId,
        i.timezone,
        i.replay,
        i.speed,
        i.csv,
        i.bytesTotal,
        i.rowsTotal,
        i.createdBy,
        i.createdAt,
      ],
    );
    return toRecord(rows[0] as Row);
  },

  /**
   * Up to `limit` imports newest first (by created_at, then id), after the position `after` when given; errors
   * are left out (a list would carry up to a thousand lines per import).
   */
  async list(
    db: Queryable,
    limit: number,
    after: { createdAt: Date; id: string } | undefined,
  ): Promise<ImportRecord[]> {
    const { rows } = await db.query<Row>(
      `SELECT ${COLUMNS.replace("errors,", "'[]'::jsonb AS errors,")} FROM imports
        WHERE $2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid)
        ORDER BY created_at DESC, id DESC
        LIMIT $1`,
      [limit, after?.createdAt ?? null, after?.id ?? null],
    );
    return rows.map(toRecord);
  },

  async get(db: Queryable, id: string): Promise<ImportRecord | undefined> {
    const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM imports WHERE id = $1`, [id]);
    return rows[0] === undefined ? undefined : toRecord(rows[0]);
  },

  /** Records progress and that the import is alive. */
  async progress(db: Queryable, id: string, p: ImportProgress): Promise<void> {
    await db.query(
      `UPDATE imports SET bytes_processed = $2, rows_processed = $3, rows_imported = $4, rows_failed = $5,
         errors = $6, errors_truncated = $7, rows_per_second = $8, heartbeat_at = now()
        WHERE id = $1 AND status = 'running'`,
      [
        id,
        p.bytesProcessed,
        p.rowsProcessed,
        p.rowsImported,
        p.rowsFailed,
        JSON.stringify(p.errors),
        p.errorsTruncated,
        p.rowsPerSecond,
      ],
    );
  },

  /** Ends an import with its final progress; its CSV is dropped. */
  async finish(
    db: Queryable,
    id: string,
    status: "completed" | "failed",
    p: ImportProgress | undefined,
    failure: string,
    at: Date,
  ): Promise<void> {
    if (p !== undefined) await importStore.progress(db, id, p);
    await db.query(
      "UPDATE imports SET status = $2, failure = $3, finished_at = $4, csv = NULL WHERE id = $1 AND status = 'running'",
      [id, status, failure, at],
    );
  },

  /** Imports still running that a service replica runs (not those the import command line runs itself), oldest first. */
  async runningIds(db: Queryable): Promise<string[]> {
    const { rows } = await db.query<{ id: string }>(
      "SELECT id FROM imports WHERE status = 'running' AND csv IS NOT NULL ORDER BY created_at, id",
    );
    return rows.map((r) => r.id);
  },

  /** An import to run, with its CSV: undefined when it is no longer running (or the command line runs it). */
  async toRun(db: Queryable, id: string): Promise<ClaimedImport | undefined> {
    const { rows } = await db.query<Row & { csv: string }>(
      `SELECT ${COLUMNS}, csv FROM imports WHERE id = $1 AND status = 'running' AND csv IS NOT NULL`,
      [id],
    );
    const row = rows[0];
    return row === undefined ? undefined : { ...toRecord(row), csv: row.csv };
  },
};
