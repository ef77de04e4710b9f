/**
 * The largest value of a Postgres BIGINT (2^63 - 1). An id, sequence or count taken from a client (a cursor,
 * a filter) must be checked against it first: a larger one fails in the query as "out of range", a 500.
 */
export const MAX_BIGINT = 2n ** 63n - 1n;

// 0001-01-01T00:00:00Z and 10000-01-01T00:00:00Z: JavaScript dates go far beyond what Postgres stores
// (4713 BC .. 294276 AD) and what the pg driver writes without a BC suffix; no real timestamp is outside.
const FIRST_MS = -62_135_596_800_000;
const AFTER_LAST_MS = 253_402_300_800_000;

/**
 * True when `date` is a valid time from year 1 to year 9999 (UTC), which Postgres stores in a timestamptz.
 * A time decoded from client input (a cursor, a date filter) outside it would fail in the query instead.
 */
export function inTimestampRange(date: Date): boolean {
  const ms = date.getTime();
  return ms >= FIRST_MS && ms < AFTER_LAST_MS;
}
