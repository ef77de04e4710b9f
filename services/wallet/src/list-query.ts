import { inTimestampRange } from "@fintech/db";
import { invalid } from "./errors.js";
import { nextDay, startOfLocalDay } from "./local-time.js";
import type { Transaction, TransactionStatus, TransactionType } from "./model.js";
import type { ListPosition, TransactionQuery } from "./store.js";
import { majorUnits } from "./store.js";

// The filters, sort and pagination of the transaction lists (docs/api.md), from the request's fields.

/** The list parameters as they arrive (enums already mapped; "" and 0 mean not given). */
export interface ListParams {
  status?: TransactionStatus;
  type?: TransactionType;
  merchantCategory: string;
  startDate: string;
  endDate: string;
  minAmount: string;
  maxAmount: string;
  sortBy: string;
  sortOrder: string;
  limit: number;
  cursor: string;
  offset: number;
}

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 100;

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const AMOUNT = /^\d{1,15}(\.\d{1,4})?$/;

/** A date (YYYY-MM-DD: in `timezone`) or an RFC 3339 time. `end` dates take the whole day in. */
function instant(value: string, field: string, timezone: string, end: boolean): Date {
  if (DATE.test(value)) {
    if (Number.isNaN(Date.parse(`${value}T00:00:00Z`))) throw invalid(field, "is not a valid date");
    return startOfLocalDay(end ? nextDay(value) : value, timezone);
  }
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw invalid(field, "must be a date (YYYY-MM-DD) or an RFC 3339 time");
  return new Date(ms);
}

function amount(value: string, field: string): string | undefined {
  if (value === "") return undefined;
  if (!AMOUNT.test(value)) throw invalid(field, 'must be a decimal such as "45.50"');
  return value;
}

/** The keyset cursor of the page after `last`. */
/** A cursor's time as cursorAfter writes it (toISOString), within what Postgres stores. */
export function isCursorTime(text: string): boolean {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(text) && inTimestampRange(new Date(text));
}

/** A cursor's row id: a UUID. */
export function isCursorId(text: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(text);
}

export function cursorAfter(last: Transaction, sortBy: "created_at" | "amount"): string {
  const key = sortBy === "amount" ? majorUnits(last.amount, last.currency) : last.createdAt.toISOString();
  return Buffer.from(JSON.stringify({ k: key, i: last.id })).toString("base64url");
}

function decodeCursor(cursor: string, sortBy: "created_at" | "amount"): ListPosition {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString());
    if (parsed !== null && typeof parsed === "object" && "k" in parsed && "i" in parsed) {
      const { k, i } = parsed as { k: unknown; i: unknown };
      // Forged keys must fail here, not in the query: Postgres parses them itself (::timestamptz, ::uuid).
      const keyOk =
        typeof k === "string" &&
        (sortBy === "amount" ? /^-?\d{1,30}(\.\d{1,30})?$/.test(k) : isCursorTime(k));
      if (keyOk && typeof i === "string" && isCursorId(i)) return { key: k, id: i };
    }
  } catch {
    // Falls through to the refusal.
  }
  throw invalid("cursor", "is not a cursor of this list (filters and sort must stay the same)");
}

/** The store query for `params` over `scope`, in the user's `timezone`. */
export function transactionQuery(
  params: ListParams,
  scope: TransactionQuery["scope"],
  timezone: string,
): TransactionQuery {
  const sortBy = params.sortBy === "" ? "created_at" : params.sortBy;
  if (sortBy !== "created_at" && sortBy !== "amount")
    throw invalid("sort_by", "must be created_at or amount");
  const order = params.sortOrder === "" ? "desc" : params.sortOrder.toLowerCase();
  if (order !== "asc" && order !== "desc") throw invalid("sort_order", "must be asc or desc");
  if (params.limit < 0 || params.limit > MAX_PAGE)
    throw invalid("limit", `must be between 1 and ${MAX_PAGE}`);
  if (params.offset < 0) throw invalid("offset", "must not be negative");
  if (params.offset > 0 && params.cursor !== "") throw invalid("offset", "cannot be combined with cursor");
  const query: TransactionQuery = {
    scope,
    sortBy,
    descending: order === "desc",
    limit: params.limit || DEFAULT_PAGE,
  };
  if (params.status) query.status = params.status;
  if (params.type) query.type = params.type;
  if (params.merchantCategory !== "") query.merchantCategory = params.merchantCategory.trim().toLowerCase();
  if (params.startDate !== "") query.from = instant(params.startDate, "start_date", timezone, false);
  if (params.endDate !== "") query.to = instant(params.endDate, "end_date", timezone, true);
  const min = amount(params.minAmount, "min_amount");
  const max = amount(params.maxAmount, "max_amount");
  if (min !== undefined) query.minAmount = min;
  if (max !== undefined) query.maxAmount = max;
  if (params.cursor !== "") query.after = decodeCursor(params.cursor, sortBy);
  if (params.offset > 0) query.offset = params.offset;
  return query;
}
