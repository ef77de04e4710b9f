import type { ConnectError } from "@connectrpc/connect";
import { inTimestampRange, MAX_BIGINT } from "@fintech/db";
import { textProblem } from "./text-issues.js";
import { validationError } from "./validation.js";
import type { ValidationIssue } from "./validation-issue.js";

// Keyset pagination, the same way in every list: a request's `limit` (0 = not given) and `cursor` ("" = the
// first page); the service fetches one row more than the page holds, and that extra row's existence says
// whether there is a next page, whose cursor is the position of the page's last row.

/** Rows on a page when the request names no limit. */
export const DEFAULT_PAGE_SIZE = 50;
/** The largest `limit` a list accepts unless it names its own bound. */
export const MAX_PAGE_SIZE = 100;
/** The longest cursor read; anything longer was not written by a list. */
const MAX_CURSOR_LENGTH = 1024;

/** The validation rule of a list's `limit`: 0 (not given) or 1 to `max` (default {@link MAX_PAGE_SIZE}). */
export function pageSizeIssues(limit: number, max = MAX_PAGE_SIZE, field = "limit"): ValidationIssue[] {
  return limit < 0 || limit > max ? [{ field, message: `must be between 1 and ${max}` }] : [];
}

/** How many rows a page holds: `limit`, or {@link DEFAULT_PAGE_SIZE} when the request gave none (0 or less). */
export function pageSize(limit: number): number {
  return limit > 0 ? limit : DEFAULT_PAGE_SIZE;
}

/** One page of a list and the cursor of the next, undefined on the last page. */
export interface Page<T> {
  items: T[];
  nextPageToken: string | undefined;
}

/**
 * The page in `rows`, fetched with a limit of `size + 1`: the first `size` rows, and when the extra row came
 * back, the cursor `tokenAfter` writes for the last row shown.
 */
export function takePage<T>(rows: readonly T[], size: number, tokenAfter: (last: T) => string): Page<T> {
  const items = rows.slice(0, size);
  const last = items.at(-1);
  return { items, nextPageToken: rows.length > size && last !== undefined ? tokenAfter(last) : undefined };
}

/** One value in a cursor: how it is written, and read back (undefined when the text is not one it wrote). */
export interface CursorPart<T> {
  write(value: T): string;
  read(text: string): T | undefined;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const DIGITS = /^\d{1,19}$/;
const DECIMAL = /^-?\d{1,30}(\.\d{1,30})?$/;

/**
 * The values a position is made of. Each refuses what Postgres would refuse in the query (a time it cannot
 * store, an id beyond BIGINT, a NUL), so a forged cursor fails as a validation error and never as a 500.
 */
export const cursorParts = {
  /** A time, to the millisecond, from year 1 to 9999. */
  time: {
    write: (value: Date) => value.toISOString(),
    read: (text: string) => {
      const date = new Date(text);
      return ISO_TIME.test(text) && inTimestampRange(date) ? date : undefined;
    },
  } satisfies CursorPart<Date>,
  /** A lower-case UUID. */
  uuid: {
    write: (value: string) => value,
    read: (text: string) => (UUID.test(text) ? text : undefined),
  } satisfies CursorPart<string>,
  /** A BIGINT id or sequence number, 0 to 2^63 - 1. */
  int64: {
    write: (value: bigint) => value.toString(),
    read: (text: string) => (DIGITS.test(text) && BigInt(text) <= MAX_BIGINT ? BigInt(text) : undefined),
  } satisfies CursorPart<bigint>,
  /** An INTEGER such as a version number, 0 to 999,999,999. */
  int: {
    write: (value: number) => String(value),
    read: (text: string) => (/^\d{1,9}$/.test(text) ? Number(text) : undefined),
  } satisfies CursorPart<number>,
  /** A decimal as Postgres prints a NUMERIC, kept as text. */
  decimal: {
    write: (value: string) => value,
    read: (text: string) => (DECIMAL.test(text) ? text : undefined),
  } satisfies CursorPart<string>,
  /** Free text (an id from another system) of at most `maxLength` characters, no control characters. */
  text: (maxLength: number): CursorPart<string> => ({
    write: (value) => value,
    read: (text) => (text.length <= maxLength && textProblem(text) === undefined ? text : undefined),
  }),
};

/** Writes a list's position as an opaque cursor and reads it back. */
export interface PageCursor<P> {
  encode(position: P): string;
  /**
   * The position in `token`.
   * @throws ConnectError InvalidArgument VALIDATION_ERROR naming the cursor's field, when `token` is not a
   *   cursor of this list (malformed, forged, or another list's).
   */
  decode(token: string): P;
}

/**
 * The cursor of a list ordered by `parts` (in the order given). A cursor is base64url over the parts joined by
 * `|` (`%` and `|` inside a part are percent-escaped), so a one-part cursor is base64url of that part.
 * `field` is the request field refusals name (default "cursor").
 *
 * @example
 * const cursor = pageCursor({ createdAt: cursorParts.time, id: cursorParts.uuid });
 * const after = req.cursor === "" ? undefined : cursor.decode(req.cursor);
 * const page = takePage(rows, size, (last) => cursor.encode(last));
 */
export function pageCursor<P extends object>(
  parts: { readonly [K in keyof P]: CursorPart<P[K]> },
  field = "cursor",
): PageCursor<P> {
  const keys = Object.keys(parts) as Array<keyof P & string>;
  const refusal = (): ConnectError => validationError([{ field, message: "is not a cursor of this list" }]);
  return {
    encode(position) {
      const text = keys.map((k) => escapePart(parts[k].write(position[k]))).join("|");
      return Buffer.from(text).toString("base64url");
    },
    decode(token) {
      if (token.length > MAX_CURSOR_LENGTH) throw refusal();
      const texts = Buffer.from(token, "base64url").toString().split("|");
      if (texts.length !== keys.length) throw refusal();
      const position: Partial<P> = {};
      for (const [i, key] of keys.entries()) {
        const text = unescapePart(texts[i] ?? "");
        const value = text === undefined ? undefined : parts[key].read(text);
        if (value === undefined) throw refusal();
        position[key] = value;
      }
      return position as P;
    },
  };
}

function escapePart(text: string): string {
  return text.replace(/%/g, "%25").replace(/\|/g, "%7C");
}

function unescapePart(text: string): string | undefined {
  if (/%(?!25|7C)/.test(text)) return undefined;
  return text.replace(/%(25|7C)/g, (escaped) => (escaped === "%25" ? "%" : "|"));
}
