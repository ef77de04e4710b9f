// Runs one import of a CSV file the command line named (see main.ts): every good row is published on the
// analytics import subject, where the analytics service counts it exactly like a live wallet event.
import { createHash, randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { basename } from "node:path";
import { createClient } from "@connectrpc/connect";
import type { ImportProgress, ImportRecord, RateSource } from "@fintech/analytics";
import {
  createImportPublisher,
  fxRates,
  headerProblem,
  importStore,
  realTimer,
  runImport,
  staticRates,
} from "@fintech/analytics";
import { createPool } from "@fintech/db";
import { streamName } from "@fintech/events";
import { parseRateList } from "@fintech/money";
import { createServiceTransport } from "@fintech/platform";
import { FxService } from "@fintech/proto/fintech/fx/v1/fx_pb.js";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type { ImportArgs } from "./args.js";
import { CliError } from "./cli-error.js";
import { formatDuration, progressLine } from "./progress.js";

const SHOWN_ERRORS = 20;

/** The file's SHA-256 (which names its rows' events) and its data rows (lines after the header), in one pass. */
async function scan(file: string): Promise<{ sha256: string; rows: number }> {
  const hash = createHash("sha256");
  let lines = 0;
  let last = 0x0a;
  for await (const chunk of createReadStream(file)) {
    const bytes = chunk as Buffer;
    hash.update(bytes);
    for (let i = bytes.indexOf(0x0a); i !== -1; i = bytes.indexOf(0x0a, i + 1)) lines++;
    if (bytes.length > 0) last = bytes[bytes.length - 1] ?? last;
  }
  if (last !== 0x0a) lines++;
  return { sha256: hash.digest("hex"), rows: Math.max(0, lines - 1) };
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Rates that say which currency and where, when they cannot be had, instead of a bare transport error. */
function explainedRates(rates: RateSource, args: ImportArgs): RateSource {
  return {
    async rateToBase(currency) {
      try {
        return await rates.rateToBase(currency);
      } catch (err) {
        throw new CliError(
          `no rate from ${currency} to ${args.baseCurrency}: fx at ${args.fxUrl} did not give one (${messageOf(err)}); ` +
            `pass fixed rates with --rates ${currency}/${args.baseCurrency}=...`,
          { cause: err },
        );
      }
    },
  };
}

async function fileSize(file: string): Promise<number> {
  try {
    const s = await stat(file);
    if (!s.isFile()) throw new CliError(`${file} is not a file`);
    return s.size;
  } catch (err) {
    if (err instanceof CliError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(
      code === "ENOENT" ? `${file}: no such file` : `cannot read ${file}: ${messageOf(err)}`,
      { cause: err },
    );
  }
}

/** The first 64 KiB of the file: enough to judge its header before publishing anything. */
async function head(file: string): Promise<string> {
  const handle = await open(file);
  try {
    const buffer = Buffer.alloc(65_536);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead).toString("utf8");
  } finally {
    await handle.close();
  }
}

/**
 * Imports the file `args` names and prints the outcome; resolves to the exit status (0 done, 1 failed). A
 * failure the user can act on (no file, a header that cannot work, bad rates, no database or NATS) is thrown as
 * a CliError.
 */
export async function importFile(args: ImportArgs): Promise<number> {
  const size = await fileSize(args.file);
  const problem = headerProblem(await head(args.file));
  if (problem !== undefined) throw new CliError(`${args.file}: ${problem.message}`);
  let fixedRates: RateSource | undefined;
  if (args.rates !== undefined) {
    try {
      fixedRates = staticRates(parseRateList(args.rates), args.baseCurrency);
    } catch (err) {
      throw new CliError(`--rates: ${messageOf(err)}`, { cause: err });
    }
  }
  const { sha256: fileSha256, rows: rowsTotal } = await scan(args.file);
  const pool = createPool({ url: args.databaseUrl, schema: args.dbSchema, max: 2 });
  try {
    let record: ImportRecord;
    try {
      record = await importStore.insert(pool, {
        id: randomUUID(),
        fileName: basename(args.file),
        fileSha256,
        userId: args.userId,
        timezone: args.timezone,
        replay: args.replay,
        speed: args.speed,
        csv: null,
        bytesTotal: size,
        rowsTotal,
        createdBy: "import-cli",
        createdAt: new Date(),
      });
    } catch (err) {
      throw new CliError(
        `cannot record the import in schema ${args.dbSchema} of ${redacted(args.databaseUrl)} ` +
          `(start the analytics service first, or set --database-url/--db-schema): ${messageOf(err)}`,
        { cause: err },
      );
    }
    if (record.status === "completed") {
      process.stdout.write(
        `0 rows imported: ${args.file} was already imported${args.userId === "" ? "" : ` for user ${args.userId}`} ` +
          `by import ${record.duplicateOf ?? ""}; nothing counted twice (import ${record.id})\n`,
      );
      return 0;
    }
    return await publish(args, record, { size, fileSha256, rowsTotal, fixedRates, pool });
  } finally {
    await pool.end();
  }
}

async function publish(
  args: ImportArgs,
  record: ImportRecord,
  file: {
    size: number;
    fileSha256: string;
    rowsTotal: number;
    fixedRates: RateSource | undefined;
    pool: ReturnType<typeof createPool>;
  },
): Promise<number> {
  const { pool } = file;
  let nc: Awaited<ReturnType<typeof connect>>;
  try {
    nc = await connect({ servers: args.natsUrl, name: "import-cli" });
  } catch (err) {
    throw new CliError(`cannot reach NATS at ${args.natsUrl}: ${messageOf(err)}`, { cause: err });
  }
  let last: ImportProgress | undefined;
  try {
    const stream = streamName("analytics", args.namespace);
    try {
      await (await jetstreamManager(nc)).streams.info(stream);
    } catch (err) {
      throw new CliError(`stream ${stream} does not exist: start the analytics service first`, {
        cause: err,
      });
    }
    const rates = explainedRates(
      file.fixedRates ??
        fxRates(
          createClient(FxService, createServiceTransport(args.fxUrl, { protocol: "grpc" })),
          args.baseCurrency,
        ),
      args,
    );
    const tty = process.stderr.isTTY === true && !args.quiet;
    let recorded = 0;
    const show = async (p: ImportProgress) => {
      last = p;
      if (tty) process.stderr.write(`\r${progressLine(p)}\u001b[K`);
      // Progress is visible in GET /api/v1/imports too, about once a second.
      if (p.elapsedMs - recorded >= 1000) {
        recorded = p.elapsedMs;
        await importStore.progress(pool, record.id, p);
      }
    };
    const started = performance.now();
    const result = await runImport(
      createReadStream(args.file, { encoding: "utf8", highWaterMark: 1 << 20 }),
      file.size,
      {
        fileSha256: file.fileSha256,
        userId: args.userId,
        timezone: args.timezone,
        baseCurrency: args.baseCurrency,
        replay: args.replay,
        speed: args.speed,
        maxErrors: SHOWN_ERRORS,
        rowsTotal: file.rowsTotal,
      },
      {
        publisher: createImportPublisher({
          nc,
          namespace: args.namespace,
          importId: record.id,
          clock: { now: () => new Date() },
        }),
        rates,
        timer: realTimer,
        progressEveryMs: 100,
        onProgress: show,
      },
    );
    if (tty) process.stderr.write("\n");
    await importStore.finish(
      pool,
      record.id,
      result.fatal === undefined ? "completed" : "failed",
      result,
      result.fatal?.message ?? "",
      new Date(),
    );
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? Math.round(result.rowsProcessed / seconds) : 0;
    const duplicate =
      record.duplicateOf === undefined
        ? ""
        : `; a repeat of import ${record.duplicateOf}, nothing counted twice`;
    process.stdout.write(
      `${result.rowsProcessed} rows: ${result.rowsImported} imported, ${result.rowsFailed} bad, in ${formatDuration(seconds * 1000)} (${rate} rows/s; import ${record.id}${duplicate})\n`,
    );
    for (const e of result.errors) process.stdout.write(`  line ${e.line}: ${e.reason}: ${e.message}\n`);
    if (result.errorsTruncated) {
      process.stdout.write(`  ... and ${result.rowsFailed - result.errors.length} more bad rows\n`);
    }
    return result.fatal === undefined ? 0 : 1;
  } catch (err) {
    await importStore
      .finish(pool, record.id, "failed", last, `the import stopped: ${messageOf(err)}`, new Date())
      .catch(() => undefined);
    throw err;
  } finally {
    await nc.drain();
  }
}

/** A database URL without its password, for messages. */
function redacted(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== "") u.password = "***";
    return u.toString();
  } catch {
    return "the database";
  }
}
