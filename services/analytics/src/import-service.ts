import { createHash, randomUUID } from "node:crypto";
import { withAdvisoryLock } from "@fintech/db";
import type { Clock } from "@fintech/platform";
import { cursorParts, MAX_PAGE_SIZE, pageCursor, pageSize, takePage } from "@fintech/platform";
import type { NatsConnection } from "@nats-io/transport-node";
import type pg from "pg";
import type { Logger } from "pino";
import { AnalyticsError } from "./errors.js";
import { createImportPublisher } from "./import-publisher.js";
import type { ImportProgress } from "./import-runner.js";
import { countRows, headerProblem, runImport, textChunks } from "./import-runner.js";
import type { ClaimedImport, ImportRecord } from "./import-store.js";
import { importStore } from "./import-store.js";
import type { RateSource } from "./rates.js";
import type { Timer } from "./timer.js";
import type { UserDirectory } from "./user-directory.js";

/** Imports are listed newest first: the position is the last import's creation time and id. */
const importCursor = pageCursor({ createdAt: cursorParts.time, id: cursorParts.uuid });

/** What an admin asks to import. */
export interface ImportRequest {
  csv: string;
  userId: string;
  timezone: string;
  replay: boolean;
  speed: number;
  fileName: string;
  /** The admin's user id. */
  createdBy: string;
}

/** Settings of {@link createImportService}. */
export interface ImportServiceSettings {
  baseCurrency: string;
  /** Bad lines kept per import. */
  maxErrors: number;
}

/** The advisory lock of one import: the replica holding it runs the import. */
const importLock = (id: string) => `analytics.import:${id}`;

/**
 * CSV imports as background jobs: create() stores the file and answers at once; the job reads it, publishes
 * the good rows on the import subject (counted by the same projections as live events) and records progress,
 * bad lines and the result. An import runs on the replica holding its advisory lock (libs/db's withAdvisoryLock),
 * which the replica that stored it takes first; a replica that stops lets go of its imports' locks, and one that
 * dies loses them with its connection, and the next resume() on any replica takes them over. Since row event ids
 * derive from the file, running an import again from the start counts nothing twice.
 */
export function createImportService(deps: {
  pool: pg.Pool;
  nc: NatsConnection;
  namespace: string;
  clock: Clock;
  timer: Timer;
  rates: RateSource;
  /** Asked whether an import's user_id is a user before the import is stored. */
  users: UserDirectory;
  logger: Logger;
  settings: ImportServiceSettings;
}) {
  const { pool, nc, namespace, clock, timer, rates, users, settings } = deps;
  const log = deps.logger.child({ component: "imports" });
  const running = new Map<string, { abort: AbortController; done: Promise<void> }>();

  /** Runs an import to its end, or until `signal` aborts, recording its progress and result. */
  async function execute(job: ClaimedImport, signal: AbortSignal): Promise<void> {
    let last: ImportProgress | undefined;
    try {
      const result = await runImport(
        textChunks(job.csv),
        job.bytesTotal,
        {
          fileSha256: job.fileSha256,
          userId: job.userId,
          timezone: job.timezone,
          baseCurrency: settings.baseCurrency,
          replay: job.replay,
          speed: job.speed,
          maxErrors: settings.maxErrors,
          rowsTotal: job.rowsTotal,
        },
        {
          publisher: createImportPublisher({ nc, namespace, importId: job.id, clock }),
          rates,
          timer,
          signal,
          onProgress: async (p) => {
            last = p;
            await importStore.progress(pool, job.id, p);
          },
        },
      );
      const status = result.fatal === undefined ? "completed" : "failed";
      await importStore.finish(pool, job.id, status, result, result.fatal?.message ?? "", clock.now());
      log.info(
        {
          importId: job.id,
          status,
          rows: result.rowsProcessed,
          imported: result.rowsImported,
          failed: result.rowsFailed,
        },
        "import finished",
      );
    } catch (err) {
      if (signal.aborted) {
        log.info({ importId: job.id }, "import stopped; another runner will take it over");
        return;
      }
      log.error({ err, importId: job.id }, "import failed");
      const message = err instanceof Error ? err.message : String(err);
      await importStore
        .finish(pool, job.id, "failed", last, `the import stopped: ${message}`, clock.now())
        .catch((e: unknown) => log.error({ err: e, importId: job.id }, "could not record the failure"));
    }
  }

  /**
   * Runs import `id` here when no other replica holds its lock and it is still running. Resolves as soon as that
   * is known (true: it runs here now), not when the import ends.
   */
  function take(id: string): Promise<boolean> {
    if (running.has(id)) return Promise.resolve(false);
    const abort = new AbortController();
    let settle: (taken: boolean) => void = () => {};
    const taken = new Promise<boolean>((resolve) => {
      settle = resolve;
    });
    const done = withAdvisoryLock(pool, importLock(id), async (lock) => {
      // Read under the lock: the runner before this one may have finished it meanwhile.
      const job = await importStore.toRun(pool, id);
      settle(job !== undefined);
      if (job === undefined) return;
      // Losing the lock (its connection) stops the import: another replica may take it over from then on.
      lock.signal.addEventListener("abort", () => abort.abort(lock.signal.reason), { once: true });
      await execute(job, abort.signal);
    })
      .then(
        (outcome) => {
          if (!outcome.acquired) settle(false);
        },
        (err: unknown) => {
          log.error({ err, importId: id }, "could not run the import; another attempt will");
          settle(false);
        },
      )
      .finally(() => {
        running.delete(id);
      });
    running.set(id, { abort, done });
    return taken;
  }

  return {
    /**
     * Stores the import and starts it in the background; returns its id. A user_id that names no user is refused
     * (VALIDATION_ERROR on user_id): its rows would count for nobody, and under that id for whoever gets it later.
     */
    async create(req: ImportRequest): Promise<ImportRecord> {
      if (req.userId !== "" && !(await users.exists(req.userId))) {
        throw new AnalyticsError("VALIDATION_ERROR", `user_id ${req.userId} is not a user of the platform`, {
          field: "user_id",
        });
      }
      // A header that cannot work is the caller's mistake, told now rather than as a failed import later.
      const problem = headerProblem(req.csv);
      if (problem !== undefined) {
        throw new AnalyticsError("VALIDATION_ERROR", problem.message, {
          field: "csv",
          ...(problem.column === undefined ? {} : { column: problem.column }),
        });
      }
      const bytesTotal = Buffer.byteLength(req.csv);
      const record = await importStore.insert(pool, {
        id: randomUUID(),
        fileName: req.fileName,
        fileSha256: createHash("sha256").update(req.csv).digest("hex"),
        userId: req.userId,
        timezone: req.timezone,
        replay: req.replay,
        speed: req.speed,
        csv: req.csv,
        bytesTotal,
        rowsTotal: countRows(req.csv),
        createdBy: req.createdBy,
        createdAt: clock.now(),
      });
      if (record.status !== "running") {
        log.info(
          { importId: record.id, duplicateOf: record.duplicateOf },
          "import duplicates a completed one",
        );
      } else if (!(await take(record.id))) {
        log.info({ importId: record.id }, "import taken over by another replica at once");
      }
      return record;
    },

    /** Imports newest first, `limit` per page after `cursor` (from the previous page's nextCursor). */
    async list(q: { limit: number; cursor: string }): Promise<{ data: ImportRecord[]; nextCursor: string }> {
      const limit = Math.min(pageSize(q.limit), MAX_PAGE_SIZE);
      const after = q.cursor === "" ? undefined : importCursor.decode(q.cursor);
      const rows = await importStore.list(pool, limit + 1, after);
      const { items, nextPageToken } = takePage(rows, limit, (last) => importCursor.encode(last));
      return { data: items, nextCursor: nextPageToken ?? "" };
    },

    async get(id: string): Promise<ImportRecord> {
      const record = await importStore.get(pool, id);
      if (record === undefined) {
        throw new AnalyticsError("NOT_FOUND", `import ${id} not found`, { import_id: id });
      }
      return record;
    },

    /**
     * Takes over the imports still running that no replica runs (their runner stopped or died); returns how many
     * it started.
     */
    async resume(): Promise<number> {
      let started = 0;
      for (const id of await importStore.runningIds(pool)) {
        if (running.has(id) || !(await take(id))) continue;
        log.info({ importId: id }, "resuming an interrupted import");
        started++;
      }
      return started;
    },

    /**
     * Stops every running import between two rows, letting go of their locks; they stay "running" for another
     * replica's resume() to take over.
     */
    async stop(): Promise<void> {
      const jobs = [...running.values()];
      for (const j of jobs) j.abort.abort(new Error("the service is stopping"));
      await Promise.all(jobs.map((j) => j.done));
    },

    /** Resolves when every import running now has ended (tests, shutdown). */
    async idle(): Promise<void> {
      await Promise.all([...running.values()].map((j) => j.done));
    },
  };
}

export type ImportService = ReturnType<typeof createImportService>;
