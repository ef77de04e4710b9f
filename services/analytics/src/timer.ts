import { setTimeout as sleep } from "node:timers/promises";

/** What replay waits with: the current time in milliseconds and a way to wait. */
export interface Timer {
  /** Milliseconds on a monotonic or wall clock; only differences matter. */
  nowMs(): number;
  /** Waits `ms`; rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Real time: performance.now() and timers. */
export const realTimer: Timer = {
  nowMs: () => performance.now(),
  sleep: (ms, signal) => sleep(ms, undefined, { signal }),
};
