/**
 * Where a service reads the time. Code whose rules depend on time (limits, fraud windows, quotes, replays,
 * leases, key rotation) takes one as a dependency, so production passes {@link systemClock} and tests pass
 * libs/testing's TestClock, which they move by hand.
 */
export interface Clock {
  /** The current time, a fresh Date the caller may keep. */
  now(): Date;
}

/** The machine's wall clock. */
export const systemClock: Clock = { now: () => new Date() };
