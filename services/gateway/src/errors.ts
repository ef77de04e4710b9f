import { Code, ConnectError } from "@connectrpc/connect";
import type { ErrorReason, Reasons } from "@fintech/platform";
import { errorInfoOf, isErrorReason } from "@fintech/platform";

/** Refusals the gateway gives itself, before or instead of a backend call. */
export type GatewayErrorReason = Reasons<
  | "VALIDATION_ERROR"
  | "UNAUTHENTICATED"
  | "NOT_FOUND"
  | "METHOD_NOT_ALLOWED"
  | "PAYLOAD_TOO_LARGE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "RATE_LIMITED"
  | "UNAVAILABLE"
  | "INTERNAL"
>;

/**
 * docs/api.md's error table: the HTTP status of every reason in the catalog (proto/fintech/api/v1/errors.proto),
 * whatever the gRPC code it came with. A Record over the catalog: a new reason without a status does not compile.
 * The ledger's reasons never reach a client (the wallet answers with its own); they get their gRPC code's status.
 */
export const reasonStatus: Readonly<Record<ErrorReason, number>> = {
  VALIDATION_ERROR: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  CONFLICT: 409,
  IDEMPOTENCY_KEY_IN_USE: 409,
  EMAIL_TAKEN: 409,
  WALLET_EXISTS: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INSUFFICIENT_BALANCE: 422,
  LIMIT_EXCEEDED: 422,
  USER_NOT_ACTIVE: 422,
  CURRENCY_NOT_SUPPORTED: 422,
  REFUND_NOT_ALLOWED: 422,
  TRANSACTION_DECLINED: 422,
  IDEMPOTENCY_KEY_REUSED: 422,
  RATE_NOT_AVAILABLE: 422,
  AMOUNT_TOO_SMALL: 422,
  QUOTE_NOT_FOUND: 404,
  QUOTE_EXPIRED: 422,
  QUOTE_ALREADY_REDEEMED: 422,
  REVIEW_NOT_FOUND: 404,
  REVIEW_ALREADY_DECIDED: 422,
  FAILED_PRECONDITION: 422,
  RATE_LIMITED: 429,
  HEADERS_TOO_LARGE: 431,
  CANCELLED: 499,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  TIMEOUT: 504,
  INSUFFICIENT_FUNDS: 422,
  CREDITS_EXCEED_DEBITS: 422,
  ACCOUNT_NOT_FOUND: 404,
  CURRENCY_MISMATCH: 422,
  SAME_ACCOUNT: 400,
  ACCOUNT_CLOSED: 422,
  PENDING_NOT_FOUND: 404,
  PENDING_ALREADY_RESOLVED: 422,
  PENDING_EXPIRED: 422,
  AMOUNT_EXCEEDS_PENDING: 422,
  PENDING_MISMATCH: 422,
  EXISTS_WITH_DIFFERENT_FIELDS: 409,
  LINKED_EVENT_FAILED: 409,
  BALANCE_OVERFLOW: 400,
  TRANSFER_NOT_FOUND: 404,
};

export class GatewayError extends Error {
  override readonly name = "GatewayError";

  constructor(
    readonly reason: GatewayErrorReason,
    message: string,
    readonly details: Record<string, string> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const isGatewayError = (e: unknown): e is GatewayError =>
  e instanceof Error && e.name === "GatewayError";

/** A bad request field; `field` is its snake_case path ("amount", "query.limit", "header.idempotency-key"). */
export const validationError = (field: string, message: string, details: Record<string, string> = {}) =>
  new GatewayError("VALIDATION_ERROR", message, { field, ...details });

/** A reason outside the catalog: status, and the error name when the backend sent no ErrorInfo, by gRPC code. */
const codeStatus: Partial<Record<Code, { status: number; error: ErrorReason }>> = {
  [Code.InvalidArgument]: { status: 400, error: "VALIDATION_ERROR" },
  [Code.OutOfRange]: { status: 400, error: "VALIDATION_ERROR" },
  [Code.Unauthenticated]: { status: 401, error: "UNAUTHENTICATED" },
  [Code.PermissionDenied]: { status: 403, error: "FORBIDDEN" },
  [Code.NotFound]: { status: 404, error: "NOT_FOUND" },
  [Code.AlreadyExists]: { status: 409, error: "CONFLICT" },
  [Code.Aborted]: { status: 409, error: "CONFLICT" },
  [Code.FailedPrecondition]: { status: 422, error: "FAILED_PRECONDITION" },
  [Code.ResourceExhausted]: { status: 429, error: "RATE_LIMITED" },
  [Code.Unavailable]: { status: 503, error: "UNAVAILABLE" },
  [Code.DeadlineExceeded]: { status: 504, error: "TIMEOUT" },
  [Code.Canceled]: { status: 499, error: "CANCELLED" },
};

/**
 * Retry-After, in seconds, of every 503 the gateway sends: long enough for a restarted backend or a failed-over
 * database to come back, short enough that a client retrying with its Idempotency-Key is not kept waiting.
 */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 1;

const genericMessage: Record<number, string> = {
  503: "the service is unavailable, try again later",
  504: "the service did not answer in time",
};

/** What the client is told: HTTP status and the public part of the error body. */
export interface HttpError {
  status: number;
  error: string;
  message: string;
  details: Record<string, string>;
  /** Extra response headers (Retry-After, Allow). */
  headers?: Record<string, string>;
  /** Set when the client must not see the real cause (an internal error): log it instead. */
  hidden?: unknown;
}

/**
 * The gateway's one map from failures to HTTP answers. A backend's ErrorInfo reason from the catalog gets its
 * status in {@link reasonStatus}; any other by its gRPC code (FailedPrecondition 422, DeadlineExceeded 504, ...); Internal, Unknown,
 * DataLoss, Unimplemented and anything that is not a known error become 500 INTERNAL with no internals.
 * Every 503 carries Retry-After (the backend's retry_after_seconds, else {@link UNAVAILABLE_RETRY_AFTER_SECONDS}).
 */
export function toHttpError(err: unknown): HttpError {
  const out = httpErrorOf(err);
  if (out.status === 503 && out.headers?.["retry-after"] === undefined) {
    const given = out.details.retry_after_seconds;
    const seconds =
      given !== undefined && /^\d+$/.test(given) ? given : String(UNAVAILABLE_RETRY_AFTER_SECONDS);
    out.headers = { ...out.headers, "retry-after": seconds };
  }
  return out;
}

function httpErrorOf(err: unknown): HttpError {
  if (isGatewayError(err)) {
    const status = reasonStatus[err.reason];
    if (status === 500)
      return { status, error: "INTERNAL", message: "internal error", details: {}, hidden: err };
    const out: HttpError = { status, error: err.reason, message: err.message, details: err.details };
    if (err.reason === "METHOD_NOT_ALLOWED" && err.details.allow !== undefined)
      out.headers = { allow: err.details.allow };
    if (err.reason === "RATE_LIMITED" && err.details.retry_after_seconds !== undefined) {
      out.headers = { "retry-after": err.details.retry_after_seconds };
    }
    return out;
  }
  if (err instanceof ConnectError) {
    const info = errorInfoOf(err);
    const byCode = codeStatus[err.code];
    const status =
      info !== undefined && isErrorReason(info.reason) ? reasonStatus[info.reason] : (byCode?.status ?? 500);
    if (status === 500)
      return { status, error: "INTERNAL", message: "internal error", details: {}, hidden: err };
    const details = info?.metadata ?? {};
    const out: HttpError = {
      status,
      error: info?.reason ?? byCode?.error ?? "INTERNAL",
      // A transport failure (no ErrorInfo) may name hosts and ports: say only what happened.
      message:
        info === undefined && status >= 503 ? (genericMessage[status] ?? "unavailable") : err.rawMessage,
      details,
    };
    const retry = details.retry_after_seconds;
    if (status === 429 && retry !== undefined && /^\d+$/.test(retry)) out.headers = { "retry-after": retry };
    return out;
  }
  return { status: 500, error: "INTERNAL", message: "internal error", details: {}, hidden: err };
}
