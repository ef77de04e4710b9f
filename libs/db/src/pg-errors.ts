/** How deep {@link sqlState} follows `cause` links before giving up (guards against cycles). */
const MAX_CAUSE_DEPTH = 8;

/**
 * The SQLSTATE of a Postgres error (e.g. `"23505"`), looking through `cause` links so that a store error wrapping
 * a pg error is still recognised. Returns undefined when there is none.
 */
export function sqlState(error: unknown): string | undefined {
  let current = error;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && typeof current === "object" && current !== null; depth++) {
    // pg's DatabaseError carries the SQLSTATE in `code` next to `severity`; Node's system errors (EPIPE...) have
    // a `code` too but no `severity`.
    const { code, severity } = current as { code?: unknown; severity?: unknown };
    if (typeof code === "string" && typeof severity === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
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
