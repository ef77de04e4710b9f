import { setTimeout as sleep } from "node:timers/promises";

/** Thrown by {@link waitFor} when the condition still fails at the deadline. */
export class WaitForTimeoutError extends Error {
  override readonly name = "WaitForTimeoutError";
}

/** Options for {@link waitFor}. */
export interface WaitForOptions {
  /**
   * Give up after this many milliseconds. Default 15000: a condition met sooner returns sooner, and an event that
   * crosses NATS and a consumer can take seconds on a loaded 2-core CI machine.
   */
  timeoutMs?: number;
  /** Pause between attempts in milliseconds. Default 20. */
  intervalMs?: number;
}

/**
 * Calls `fn` until it returns something other than `undefined` or `false`, and resolves with that value
 * (so `0`, `""` and `null` count as results). Used instead of sleeping when a test waits for async work.
 *
 * An error thrown by `fn` is not retried: it rejects at once, unchanged. One call is not interrupted, so a call
 * that hangs is bounded by the test's own timeout. The last attempt starts no later than the deadline.
 *
 * Defaults: `timeoutMs` 15000, `intervalMs` 20.
 * @throws WaitForTimeoutError when the deadline passes first.
 */
export async function waitFor<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  opts: WaitForOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const intervalMs = opts.intervalMs ?? 20;
  const started = Date.now();
  const deadline = started + timeoutMs;
  for (let attempts = 1; ; attempts++) {
    const result = await fn();
    if (result !== undefined && result !== false) return result;
    const now = Date.now();
    if (now >= deadline) {
      throw new WaitForTimeoutError(
        `waitFor: condition not met within ${timeoutMs} ms (${attempts} attempts over ${now - started} ms)`,
      );
    }
    await sleep(Math.min(intervalMs, deadline - now));
  }
}
