import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { Decimal } from "@fintech/money";
import { convertAmount, formatAmount } from "@fintech/money";
import type { TransactionEvent } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import {
  TransactionEventSchema,
  TransactionStatus,
  TransactionType,
} from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import type { CsvRecord } from "./csv.js";
import { CsvReader } from "./csv.js";
import type { Header, ImportRow, LineError } from "./import-rows.js";
import { readHeader, readRow, rowEventId } from "./import-rows.js";
import type { RateSource } from "./rates.js";
import type { Timer } from "./timer.js";

/** Sends an import's rows, as wallet-shaped events, on the same event path as live traffic. */
export interface RowPublisher {
  /** Queues one row's event; it goes out with the next group of rows, or on send() or flush(). */
  publish(id: string, line: number, event: TransactionEvent): Promise<void>;
  /** Publishes the queued rows now (replay calls it before waiting, so rows go out when they are due). */
  send(): Promise<void>;
  /** Publishes what is queued and waits until all of it is acknowledged; throws if some could not be. */
  flush(): Promise<void>;
}

/** What an import is and how it runs. */
export interface ImportSettings {
  /** Hex SHA-256 of the whole file: with userId and the line, it names each row's event. */
  fileSha256: string;
  /** Whose rows these are; "" for platform statistics only. */
  userId: string;
  /** IANA zone of the user's days ("" = UTC). */
  timezone: string;
  baseCurrency: string;
  /** Publish each row when its time comes rather than at once. */
  replay: boolean;
  /** Replay speed (60 = a minute per second); ignored without replay. */
  speed: number;
  /** Bad lines kept in the result (all are counted); default 1000. */
  maxErrors?: number;
  /** Data rows expected (lines after the header), for progress; an estimate (a quoted field may span lines). */
  rowsTotal?: number;
}

/** Where an import stands. */
export interface ImportProgress {
  bytesTotal: number;
  /** As given in the settings (0 when unknown). */
  rowsTotal: number;
  bytesProcessed: number;
  rowsProcessed: number;
  rowsImported: number;
  rowsFailed: number;
  errors: LineError[];
  errorsTruncated: boolean;
  /** Since the first row, in milliseconds of the timer. */
  elapsedMs: number;
  rowsPerSecond: number;
  /** Set when the file cannot be imported at all (no header, or one without a required column). */
  fatal?: LineError;
}

/** What runImport needs besides the file. */
export interface ImportDeps {
  publisher: RowPublisher;
  rates: RateSource;
  timer: Timer;
  /** Called at most every `progressEveryMs` while running, and once at the end. */
  onProgress?: (progress: ImportProgress) => void | Promise<void>;
  /** Default 250. */
  progressEveryMs?: number;
  /** Stops the import between rows (it then throws the signal's reason). */
  signal?: AbortSignal;
}

/**
 * Replay's virtual clock: row i is due (its delay after the previous row) / speed after the previous one, where
 * the delay is the row's sleep_ms when it has one, else the time from the previous row's timestamp to its own
 * (never negative). Waiting is against a fixed start, so timer drift does not add up over a long file.
 */
export class ReplaySchedule {
  #virtualMs = 0;
  #lastAt: number | undefined;
  #startMs: number | undefined;

  constructor(
    private readonly speed: number,
    private readonly timer: Timer,
  ) {}

  /** Waits until `row` is due; `beforeWait` runs first when there is a wait. */
  async due(
    row: Pick<ImportRow, "at" | "sleepMs">,
    signal?: AbortSignal,
    beforeWait?: () => Promise<void>,
  ): Promise<void> {
    if (this.#startMs === undefined) this.#startMs = this.timer.nowMs();
    const step = row.sleepMs ?? (this.#lastAt === undefined ? 0 : Math.max(0, row.at - this.#lastAt));
    this.#lastAt = row.at;
    this.#virtualMs += step;
    const dueAt = this.#startMs + this.#virtualMs / this.speed;
    if (dueAt - this.timer.nowMs() <= 0) return;
    await beforeWait?.();
    // Sending the queued rows may have taken the rest of the wait: a negative timeout is a warning in Node.
    const wait = dueAt - this.timer.nowMs();
    if (wait > 0) await this.timer.sleep(wait, signal);
  }
}

/**
 * Reads a CSV (as text chunks), checks every row, and publishes each good one as a completed transaction event
 * (the base amount converted at the rate source's rate, half-even). Bad rows are counted and listed with their
 * line and reason and do not stop the import; a file without the required header columns imports nothing.
 * Throws only when publishing fails (or the signal aborts).
 */
export async function runImport(
  chunks: AsyncIterable<string> | Iterable<string>,
  bytesTotal: number,
  settings: ImportSettings,
  deps: ImportDeps,
): Promise<ImportProgress> {
  const { publisher, rates, timer, signal } = deps;
  const maxErrors = settings.maxErrors ?? 1000;
  const progressEveryMs = deps.progressEveryMs ?? 250;
  const schedule = settings.replay
    ? new ReplaySchedule(settings.speed > 0 ? settings.speed : 1, timer)
    : undefined;
  const reader = new CsvReader();
  const rateCache = new Map<string, Decimal | undefined>();
  const started = timer.nowMs();
  let lastReport = started;
  let header: Header | undefined;
  let headerFailed = false;
  const p: ImportProgress = {
    bytesTotal,
    rowsTotal: settings.rowsTotal ?? 0,
    bytesProcessed: 0,
    rowsProcessed: 0,
    rowsImported: 0,
    rowsFailed: 0,
    errors: [],
    errorsTruncated: false,
    elapsedMs: 0,
    rowsPerSecond: 0,
  };

  const fail = (e: LineError) => {
    p.rowsFailed++;
    if (p.errors.length < maxErrors) p.errors.push(e);
    else p.errorsTruncated = true;
  };

  const report = async (force: boolean) => {
    const now = timer.nowMs();
    if (!force && now - lastReport < progressEveryMs) return;
    lastReport = now;
    p.elapsedMs = now - started;
    p.rowsPerSecond = p.elapsedMs > 0 ? (p.rowsProcessed * 1000) / p.elapsedMs : 0;
    await deps.onProgress?.(p);
  };

  async function rateOf(currency: string): Promise<Decimal | undefined> {
    if (!rateCache.has(currency)) rateCache.set(currency, await rates.rateToBase(currency));
    return rateCache.get(currency);
  }

  async function handle(row: ImportRow): Promise<void> {
    let base = row.amount;
    if (row.currency !== settings.baseCurrency) {
      const rate = await rateOf(row.currency);
      if (rate === undefined) {
        fail({
          line: row.line,
          reason: "UNKNOWN_CURRENCY",
          message: `currency ${row.currency} is not supported (no rate to ${settings.baseCurrency})`,
          column: "currency",
        });
        return;
      }
      base = convertAmount(row.amount, row.currency, settings.baseCurrency, rate);
    }
    // Rows queued before a replay wait are due now: send them before waiting.
    if (schedule !== undefined) await schedule.due(row, signal, () => publisher.send());
    const id = rowEventId(settings.fileSha256, settings.userId, row.line);
    await publisher.publish(id, row.line, rowEvent(id, row, base, settings));
    p.rowsImported++;
  }

  async function consume(records: ReturnType<CsvReader["push"]>): Promise<void> {
    for (const record of records) {
      if (signal?.aborted) throw signal.reason;
      if (header === undefined) {
        if (headerFailed) continue;
        const h = readHeader(record);
        if ("reason" in h) {
          headerFailed = true;
          p.fatal = h;
          p.errors.push(h);
        } else {
          header = h;
        }
        continue;
      }
      p.rowsProcessed++;
      const row = readRow(record, header, settings.baseCurrency);
      if ("reason" in row) fail(row);
      else await handle(row);
      await report(false);
    }
  }

  for await (const chunk of chunks) {
    const records = reader.push(chunk);
    p.bytesProcessed += Buffer.byteLength(chunk);
    await consume(records);
    if (headerFailed) break;
  }
  if (!headerFailed) await consume(reader.end());
  if (header === undefined && !headerFailed) {
    headerFailed = true;
    p.fatal = { line: 1, reason: "MISSING_COLUMN", message: "the file has no header line" };
    p.errors.push(p.fatal);
  }
  if (headerFailed) p.bytesProcessed = bytesTotal;
  await publisher.flush();
  await report(true);
  return p;
}

/** The wallet-shaped event of an imported row: a completed transaction, created and completed at its timestamp. */
export function rowEvent(
  id: string,
  row: ImportRow,
  base: bigint,
  settings: ImportSettings,
): TransactionEvent {
  const at = timestampFromMs(row.at);
  return create(TransactionEventSchema, {
    transactionId: id,
    userId: settings.userId,
    type: row.type,
    status: TransactionStatus.COMPLETED,
    amount: { currency: row.currency, amount: formatAmount(row.amount, row.currency) },
    baseAmount: { currency: settings.baseCurrency, amount: formatAmount(base, settings.baseCurrency) },
    merchantCategory: row.category,
    provider: row.provider,
    timezone: settings.timezone,
    direction: row.type === TransactionType.TRANSFER ? "outgoing" : "",
    createdAt: at,
    occurredAt: at,
  });
}

/**
 * Why a CSV text cannot be imported at all, judged by its header line alone (no header, a malformed one, or one
 * without a required column); undefined when the header is fine. Lets an import be refused before it is stored.
 */
export function headerProblem(text: string): LineError | undefined {
  const reader = new CsvReader();
  let first: CsvRecord | undefined;
  for (const chunk of textChunks(text)) {
    first = reader.push(chunk)[0];
    if (first !== undefined) break;
  }
  first ??= reader.end()[0];
  if (first === undefined)
    return { line: 1, reason: "MISSING_COLUMN", message: "the file has no header line" };
  const header = readHeader(first);
  return "reason" in header ? header : undefined;
}

/** Data rows of a CSV text (lines after the header), counting a last line without a line break. */
export function countRows(text: string): number {
  let lines = 0;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) lines++;
  if (text.length > 0 && !text.endsWith("\n")) lines++;
  return Math.max(0, lines - 1);
}

/** Splits a text into chunks of about `size` characters (so progress can be reported while reading it). */
export function* textChunks(text: string, size = 65_536): Generator<string> {
  let i = 0;
  while (i < text.length) {
    let end = Math.min(text.length, i + size);
    // Never split a surrogate pair: byte counts of the halves would not add up to the pair's.
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end++;
    yield text.slice(i, end);
    i = end;
  }
}
