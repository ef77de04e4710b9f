/** How deep {@link sqlState} follows `cause` links before giving up (guards against cycles). */
const MAX_CAUSE_DEPTH = 8;

/**
 * The SQLSTATE of a Postgres error (e.g. `"23505"`), looking through `cause` links so that a store error wrapping
 * a pg error is still recognised. Returns undefined when there is none.
 */
export function sqlState(error: unknown): string | undefined {
  return postgresError(error)?.code;
}

/** The first Postgres error in `error` or its `cause` links: its SQLSTATE and message. */
function postgresError(error: unknown): { code: string; message: string } | undefined {
  let current = error;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && typeof current === "object" && current !== null; depth++) {
    // pg's DatabaseError carries the SQLSTATE in `code` next to `severity`; Node's system errors (EPIPE...) have
    // a `code` too but no `severity`.
    const { code, severity, message } = current as { code?: unknown; severity?: unknown; message?: unknown };
    if (typeof code === "string" && typeof severity === "string" && /^[0-9A-Z]{5}$/.test(code)) {
      return { code, message: typeof message === "string" ? message : "" };
    }
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** True for SQLSTATE 23505 (unique_violation), directly or through `cause`. */
export function isUniqueViolation(error: unknown): boolean {
  return sqlState(error) === "23505";
}

/**
 * True for errors that a retry of the whole transaction can fix: SQLSTATE 40001 (serialization_failure) and
 * 40P01 (deadlock_detected), directly or through `cause`.
 */
export function isSerializationFailure(error: unknown): boolean {
  const state = sqlState(error);
  return state === "40001" || state === "40P01";
}

/**
 * True when Postgres refused a prepared statement because a migration changed the columns it returns
 * (SQLSTATE 0A000, "cached plan must not change result type"), directly or through `cause`. PreparingClient
 * then prepares the text afresh, so the same request succeeds when sent again.
 */
export function isStalePreparedStatement(error: unknown): boolean {
  const found = postgresError(error);
  return found?.code === "0A000" && found.message.startsWith("cached plan must not change");
}

/**
 * SQLSTATEs after which the same request can succeed a moment later: the server is shutting down or starting
 * (57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, 57P05 idle_session_timeout), it has no
 * connection slot free (53300 too_many_connections), or the connection broke (class 08). 40001 and 40P01 reach a
 * caller only once withTransaction's retries are exhausted: contention, which also passes.
 */
const TRANSIENT_SQLSTATES = new Set(["57P01", "57P02", "57P03", "57P05", "53300", "40001", "40P01"]);

/** Node system error codes of a connection that could not be made or broke under a query. */
const TRANSIENT_SYSCALL_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);

/**
 * pg and pg-pool raise these as plain Errors with no code: the socket closed under a query, a client broken by
 * an earlier error, or no connection within the pool's `connectionTimeoutMillis`.
 */
const TRANSIENT_MESSAGES = [
  "Connection terminated unexpectedly",
  "Connection terminated due to connection timeout",
  "timeout exceeded when trying to connect",
  "Client has encountered a connection error and is not queryable",
];

/**
 * True when `error` (directly, through `cause`, or inside an AggregateError such as Node's happy-eyeballs
 * connect failure) says the database was unreachable or went away rather than that the request was wrong:
 * connection refused or reset, a connection terminated unexpectedly, the pool's connect timeout, SQLSTATE class 08,
 * 57P01/57P02/57P03/57P05, 53300, serialization failures or deadlocks left after retries, and a prepared statement
 * a migration made stale (isStalePreparedStatement). Callers answer these as "unavailable, try again", not as an
 * internal error.
 */
export function isTransientDbError(error: unknown): boolean {
  if (isStalePreparedStatement(error)) return true;
  const pending: unknown[] = [error];
  for (let seen = 0; seen < MAX_CAUSE_DEPTH * 2 && pending.length > 0; seen++) {
    const current = pending.shift();
    if (typeof current !== "object" || current === null) continue;
    const state = sqlState(current);
    if (state !== undefined && (TRANSIENT_SQLSTATES.has(state) || state.startsWith("08"))) return true;
    const { code, message, cause, errors } = current as {
      code?: unknown;
      message?: unknown;
      cause?: unknown;
      errors?: unknown;
    };
    if (typeof code === "string" && TRANSIENT_SYSCALL_CODES.has(code)) return true;
    if (typeof message === "string" && TRANSIENT_MESSAGES.includes(message)) return true;
    pending.push(cause);
    if (Array.isArray(errors)) pending.push(...errors);
  }
  return false;
}
