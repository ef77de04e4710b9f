import type { ThrottleRow } from "./store.js";

/** Brute-force protection per account. */
export interface ThrottleSettings {
  /** Failures allowed without any wait. */
  freeAttempts: number;
  /** The wait after the first failure beyond the free ones, in milliseconds; it doubles with each further failure. */
  baseMs: number;
  /** The longest wait, in milliseconds: no account is ever locked for longer after one failure. */
  maxMs: number;
  /** Failures are forgotten when the last one is older than this, in milliseconds. */
  resetAfterMs: number;
}

/**
 * Whether a login attempt may check a password now. An admitted attempt is counted as a failure before the
 * password is checked (a success then clears the record), so parallel guesses cannot slip past the count:
 * after `freeAttempts` failures the account waits baseMs, then 2x, 4x, ... up to maxMs before the next try.
 * Never a permanent lock: once the wait is over one more attempt is allowed, and a correct password resets it.
 */
export function admitLogin(
  state: ThrottleRow,
  now: Date,
  s: ThrottleSettings,
): { admitted: true; next: ThrottleRow } | { admitted: false; retryAt: Date } {
  const t = now.getTime();
  if (state.lockedUntil !== null && state.lockedUntil.getTime() > t) {
    return { admitted: false, retryAt: state.lockedUntil };
  }
  const previous = t - state.lastFailureAt.getTime() > s.resetAfterMs ? 0 : state.failures;
  const failures = previous + 1;
  return {
    admitted: true,
    next: { failures, lastFailureAt: now, lockedUntil: lockAfter(failures, now, s) },
  };
}

function lockAfter(failures: number, now: Date, s: ThrottleSettings): Date | null {
  if (failures < s.freeAttempts) return null;
  const exponent = Math.min(failures - s.freeAttempts, 40);
  return new Date(now.getTime() + Math.min(s.baseMs * 2 ** exponent, s.maxMs));
}
