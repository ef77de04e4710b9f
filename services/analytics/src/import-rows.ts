import { derivedId } from "@fintech/events";
import { findCurrency, parseAmount } from "@fintech/money";
import { TransactionType } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import { PLATFORM_TYPES } from "./counter-fields.js";
import type { CsvRecord } from "./csv.js";
import { platformTypeName, UNCATEGORIZED } from "./projections.js";

/** Columns every import must have. */
export const REQUIRED_COLUMNS = ["timestamp", "type", "provider", "amount"] as const;
/** Columns an import may have: currency (default the base currency), sleep_ms (replay), merchant_category. */
export const OPTIONAL_COLUMNS = ["currency", "sleep_ms", "merchant_category"] as const;

type Column = (typeof REQUIRED_COLUMNS)[number] | (typeof OPTIONAL_COLUMNS)[number];

/** Why a line was not imported. */
export type LineErrorReason =
  | "MISSING_COLUMN"
  | "BAD_DATE"
  | "BAD_TYPE"
  | "BAD_AMOUNT"
  | "NEGATIVE_AMOUNT"
  | "UNKNOWN_CURRENCY"
  | "BAD_SLEEP_MS"
  | "MALFORMED_ROW";

/** One bad line of an import. */
export interface LineError {
  /** 1-based line where the row starts; 1 is the header. */
  line: number;
  reason: LineErrorReason;
  message: string;
  /** The column at fault, when one is. */
  column?: string;
}

/** A valid row, ready to become an event. */
export interface ImportRow {
  line: number;
  /** Unix milliseconds. */
  at: number;
  type: TransactionType;
  provider: string;
  currency: string;
  /** Minor units of `currency`, greater than zero. */
  amount: bigint;
  category: string;
  /** Replay delay before this row, when given. */
  sleepMs: number | undefined;
}

/** Where each known column is in the rows, and how many fields a row has. */
export interface Header {
  columns: Map<Column, number>;
  width: number;
}

// The words files from the systems this platform replaces use for each type (checked in lower case, trimmed).
const TYPES: Record<string, TransactionType> = {
  deposit: TransactionType.TOP_UP,
  deposits: TransactionType.TOP_UP,
  top_up: TransactionType.TOP_UP,
  topup: TransactionType.TOP_UP,
  "top-up": TransactionType.TOP_UP,
  withdrawal: TransactionType.WITHDRAWAL,
  withdrawals: TransactionType.WITHDRAWAL,
  withdraw: TransactionType.WITHDRAWAL,
  purchase: TransactionType.PURCHASE,
  purchases: TransactionType.PURCHASE,
  payment: TransactionType.PURCHASE,
  payments: TransactionType.PURCHASE,
  refund: TransactionType.REFUND,
  refunds: TransactionType.REFUND,
  transfer: TransactionType.TRANSFER,
  transfers: TransactionType.TRANSFER,
};

/** The type words a file may use, as error messages list them. */
export const TYPE_WORDS = Object.keys(TYPES);

/** The transaction type a type word names (any case, surrounding spaces ignored), or undefined. */
export function typeOfWord(word: string): TransactionType | undefined {
  return TYPES[word.trim().toLowerCase()];
}

/**
 * The platform type a statistics filter names: a platform type ("top_up") or an import's type word ("deposits"),
 * any case; undefined when it names none.
 */
export function platformTypeOf(word: string): string | undefined {
  const w = word.trim().toLowerCase();
  if ((PLATFORM_TYPES as readonly string[]).includes(w)) return w;
  const type = typeOfWord(w);
  return type === undefined ? undefined : platformTypeName(type);
}

// Other names files use for a column: the aggregation service's files name the provider `payment_method`.
const ALIASES: Record<string, Column> = {
  payment_method: "provider",
  method: "provider",
  time: "timestamp",
  created_at: "timestamp",
  transaction_type: "type",
  category: "merchant_category",
};

/** Every column name a header may use, with what it stands for. */
const NAMES = new Map<string, Column>([
  ...[...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS].map((c): [string, Column] => [c, c]),
  ...Object.entries(ALIASES),
]);

const expected = (): string =>
  REQUIRED_COLUMNS.map((c) => {
    const aliases = Object.entries(ALIASES)
      .filter(([, to]) => to === c)
      .map(([name]) => name);
    return aliases.length === 0 ? c : `${c} (or ${aliases.join(", ")})`;
  }).join(", ");

/**
 * Reads the header line: column names in any case and order, surrounding spaces ignored, known aliases (e.g.
 * payment_method for provider) accepted; the first column naming a thing wins and other columns are ignored.
 * A missing required column is an error naming the columns found and the ones expected.
 */
export function readHeader(record: CsvRecord): Header | LineError {
  if (record.error !== undefined) {
    return { line: record.line, reason: "MALFORMED_ROW", message: `header: ${record.error}` };
  }
  const columns = new Map<Column, number>();
  record.fields.forEach((name, index) => {
    const column = NAMES.get(name.trim().toLowerCase());
    if (column !== undefined && !columns.has(column)) columns.set(column, index);
  });
  const missing = REQUIRED_COLUMNS.filter((c) => !columns.has(c));
  const first = missing[0];
  if (first !== undefined) {
    const found = record.fields.map((f) => clip(f.trim())).filter((f) => f !== "");
    return {
      line: record.line,
      reason: "MISSING_COLUMN",
      message:
        `the header has no ${missing.join(", ")} column${missing.length > 1 ? "s" : ""}: ` +
        `found ${found.length === 0 ? "none" : found.join(", ")}; expected ${expected()}` +
        ` and optionally ${OPTIONAL_COLUMNS.join(", ")}`,
      column: first,
    };
  }
  return { columns, width: record.fields.length };
}

// 2026-03-01, 2026-03-01T08:00, 2026-03-01 08:00:00.123, with Z, +08:00 or +0800; no zone means UTC.
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/** Unix milliseconds of an RFC 3339-like timestamp, or undefined when it is not a real instant. */
export function parseTimestamp(text: string): number | undefined {
  const m = TIMESTAMP.exec(text);
  if (m === null) return undefined;
  const [, y, mo, d, h = "0", mi = "0", s = "0", frac = "", zone = "Z"] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  if (day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return undefined;
  let offsetMin = 0;
  if (zone !== "Z" && zone !== "z") {
    const sign = zone.startsWith("-") ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2) || "0");
    if (oh > 18 || om > 59) return undefined;
    offsetMin = sign * (oh * 60 + om);
  }
  const ms = Number(frac.padEnd(3, "0").slice(0, 3));
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, ms);
  return date.getTime() - offsetMin * 60_000;
}

const SLEEP = /^\d{1,8}$/;
const MAX_SLEEP_MS = 86_400_000;

/**
 * Checks one data row against the header. A row is refused for its first problem, in this order: a malformed
 * record (or more fields than the header), a missing column (fewer fields, or an empty required value), the timestamp, the type, the currency, the amount, sleep_ms.
 */
export function readRow(record: CsvRecord, header: Header, baseCurrency: string): ImportRow | LineError {
  const line = record.line;
  if (record.error !== undefined) return { line, reason: "MALFORMED_ROW", message: record.error };
  if (record.fields.length > header.width) {
    return {
      line,
      reason: "MALFORMED_ROW",
      message: `the row has ${record.fields.length} fields but the header has ${header.width}`,
    };
  }
  const value = (column: Column): string | undefined => {
    const index = header.columns.get(column);
    if (index === undefined) return undefined;
    return record.fields[index]?.trim();
  };
  for (const column of REQUIRED_COLUMNS) {
    const v = value(column);
    if (v === undefined || v === "") {
      return { line, reason: "MISSING_COLUMN", message: `no value in column ${column}`, column };
    }
  }
  const timestamp = value("timestamp") ?? "";
  const at = parseTimestamp(timestamp);
  if (at === undefined) {
    return {
      line,
      reason: "BAD_DATE",
      message: `timestamp "${clip(timestamp)}" is not a date such as 2026-03-01T08:00:00Z`,
      column: "timestamp",
    };
  }
  const typeText = value("type") ?? "";
  const type = typeOfWord(typeText);
  if (type === undefined) {
    return {
      line,
      reason: "BAD_TYPE",
      message: `type "${clip(typeText)}" is not one of ${TYPE_WORDS.join(", ")}`,
      column: "type",
    };
  }
  const currencyText = (value("currency") ?? "").toUpperCase();
  const currency = currencyText === "" ? baseCurrency : currencyText;
  if (findCurrency(currency) === undefined) {
    return {
      line,
      reason: "UNKNOWN_CURRENCY",
      message: `currency "${clip(currencyText)}" is not an ISO 4217 code`,
      column: "currency",
    };
  }
  const amountText = value("amount") ?? "";
  let amount: bigint;
  try {
    amount = parseAmount(amountText, currency);
  } catch (err) {
    return {
      line,
      reason: "BAD_AMOUNT",
      message: err instanceof Error ? err.message : `amount "${clip(amountText)}" is not a decimal`,
      column: "amount",
    };
  }
  if (amount < 0n) {
    return { line, reason: "NEGATIVE_AMOUNT", message: `amount ${amountText} is negative`, column: "amount" };
  }
  if (amount === 0n) {
    return { line, reason: "BAD_AMOUNT", message: "amount must be greater than zero", column: "amount" };
  }
  const sleepText = value("sleep_ms") ?? "";
  let sleepMs: number | undefined;
  if (sleepText !== "") {
    sleepMs = SLEEP.test(sleepText) ? Number(sleepText) : Number.NaN;
    if (!(sleepMs >= 0 && sleepMs <= MAX_SLEEP_MS)) {
      return {
        line,
        reason: "BAD_SLEEP_MS",
        message: `sleep_ms "${clip(sleepText)}" is not a whole number of milliseconds from 0 to ${MAX_SLEEP_MS}`,
        column: "sleep_ms",
      };
    }
  }
  const categoryText = (value("merchant_category") ?? "").toLowerCase();
  const category =
    type === TransactionType.PURCHASE || type === TransactionType.REFUND ? categoryText || UNCATEGORIZED : "";
  return {
    line,
    at,
    type,
    provider: (value("provider") ?? "").toLowerCase(),
    currency,
    amount,
    category,
    sleepMs,
  };
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

/**
 * The event id of a row: a UUID-shaped digest of the file's SHA-256, the user it is imported for and the line,
 * so the same file imported again for the same user yields the same ids (and counts nothing twice).
 */
export function rowEventId(fileSha256: string, userId: string, line: number): string {
  return derivedId(`${fileSha256}\n${userId}\n${line}`);
}
