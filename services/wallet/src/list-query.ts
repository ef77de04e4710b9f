import {
  cursorParts,
  nextDay,
  pageCursor,
  pageSize,
  pageSizeIssues,
  startOfLocalDay,
} from "@fintech/platform";
import { invalid } from "./errors.js";
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

// A transaction list's position: its sort key (an amount, or a creation time) and the row id. A cursor of one
// sort read under the other fails, as the key has the other shape.
const amountCursor = pageCursor({ key: cursorParts.decimal, id: cursorParts.uuid });
const timeCursor = pageCursor({ createdAt: cursorParts.time, id: cursorParts.uuid });

/** The keyset cursor of the page after `last`. */
export function cursorAfter(last: Transaction, sortBy: "created_at" | "amount"): string {
  return sortBy === "amount"
    ? amountCursor.encode({ key: majorUnits(last.amount, last.currency), id: last.id })
    : timeCursor.encode(last);
}

function decodeCursor(cursor: string, sortBy: "created_at" | "amount"): ListPosition {
  if (sortBy === "amount") return amountCursor.decode(cursor);
  const { createdAt, id } = timeCursor.decode(cursor);
  return { key: createdAt.toISOString(), id };
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
  const [badLimit] = pageSizeIssues(params.limit);
  if (badLimit !== undefined) throw invalid(badLimit.field, badLimit.message);
  if (params.offset < 0) throw invalid("offset", "must not be negative");
  if (params.offset > 0 && params.cursor !== "") throw invalid("offset", "cannot be combined with cursor");
  const query: TransactionQuery = {
    scope,
    sortBy,
    descending: order === "desc",
    limit: pageSize(params.limit),
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
