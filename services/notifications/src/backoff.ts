/** The first retry's delay, in milliseconds; each further one doubles, up to {@link MAX_RETRY_DELAY_MS}. */
export const FIRST_RETRY_DELAY_MS = 30_000;
/** The longest wait between two attempts: 12 hours. */
export const MAX_RETRY_DELAY_MS = 12 * 3_600_000;
/** How far each delay is moved at random, either way: a fifth. */
export const JITTER = 0.2;

/**
 * How long to wait after the `attempt`-th failed attempt (1 for the first): 30 s doubling each time up to 12 h,
 * moved by up to a fifth either way at random (`random` in [0, 1)) so that receivers that failed together are
 * not all retried together.
 */
export function retryDelayMs(attempt: number, random: number): number {
  const nominal = Math.min(FIRST_RETRY_DELAY_MS * 2 ** Math.max(0, attempt - 1), MAX_RETRY_DELAY_MS);
  return Math.round(nominal * (1 - JITTER + 2 * JITTER * random));
}
