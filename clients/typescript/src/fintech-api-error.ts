import type { components } from "./gen/api.js";

/** The body of every failure the API answers (docs/api.md, Errors). */
export type ApiErrorBody = components["schemas"]["Error"];

/**
 * A refusal by the API, with what its error body says: `code` is the stable error name (`INSUFFICIENT_BALANCE`,
 * `VALIDATION_ERROR`, ...), `message` is for people, `field` names the bad field of a VALIDATION_ERROR, and
 * `details` holds the other facts (`available`, `requested`, ...). A failure without the API's body (a proxy's
 * page, say) gets the code `HTTP_<status>`.
 */
export class FintechApiError extends Error {
  override readonly name = "FintechApiError";
  /** The HTTP status, e.g. 422. */
  readonly status: number;
  /** The stable error name, e.g. `INSUFFICIENT_BALANCE`. */
  readonly code: string;
  /** The field a VALIDATION_ERROR names (`details.field`), else undefined. */
  readonly field: string | undefined;
  /** Facts about the failure, as strings. */
  readonly details: Readonly<Record<string, string>>;
  /** The request's id (X-Request-Id), to find it in the platform's logs. */
  readonly requestId: string | undefined;
  /** Seconds to wait before a retry (Retry-After on 429 and 503), else undefined. */
  readonly retryAfterSeconds: number | undefined;
  /** The error body as the API sent it, when it sent one. */
  readonly body: ApiErrorBody | undefined;

  constructor(response: Response, body: unknown) {
    const parsed = isErrorBody(body) ? body : undefined;
    super(parsed?.message ?? (typeof body === "string" && body !== "" ? body : response.statusText));
    this.status = response.status;
    this.body = parsed;
    this.code = parsed?.error ?? `HTTP_${response.status}`;
    this.details = parsed?.details ?? {};
    this.field = this.details.field;
    this.requestId = parsed?.request_id ?? response.headers.get("x-request-id") ?? undefined;
    const retryAfter = response.headers.get("retry-after");
    this.retryAfterSeconds = retryAfter !== null && /^\d+$/.test(retryAfter) ? Number(retryAfter) : undefined;
  }
}

/** Whether `err` is a {@link FintechApiError} (by name, so it holds across copies of this package). */
export function isFintechApiError(err: unknown): err is FintechApiError {
  return err instanceof Error && err.name === "FintechApiError";
}

function isErrorBody(body: unknown): body is ApiErrorBody {
  if (typeof body !== "object" || body === null) return false;
  const b = body as Record<string, unknown>;
  return (
    typeof b.error === "string" &&
    typeof b.message === "string" &&
    typeof b.details === "object" &&
    b.details !== null &&
    Object.values(b.details).every((v) => typeof v === "string")
  );
}
