// A load that runs until it is stopped, recording when each call ended, so that what happened around an
// event (a replica added or killed) can be read afterwards, window by window.
import type { Call } from "./load.js";

/** One call of the load: when it ended (performance.now(), ms), how long it took (ms), and whether it succeeded. */
export interface Completion {
  at: number;
  ms: number;
  ok: boolean;
}

/** What a window of a steady load did. */
export interface WindowStats {
  ok: number;
  failed: number;
  /** Successful calls per second. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

/** A running load; see {@link startSteadyLoad}. */
export interface SteadyLoad {
  readonly completions: readonly Completion[];
  /** What the calls that ended in [from, to) did. */
  window(from: number, to: number): WindowStats;
  /** Lets the calls under way end and starts no more. */
  stop(): Promise<void>;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

/** Starts `inFlight` callers that each call `call` again as soon as their last call ended, until stop(). */
export function startSteadyLoad(call: Call, inFlight: number): SteadyLoad {
  const completions: Completion[] = [];
  let i = 0;
  let running = true;
  const worker = async () => {
    while (running) {
      const started = performance.now();
      const ok = await call(i++).catch(() => false);
      const at = performance.now();
      completions.push({ at, ms: at - started, ok });
    }
  };
  const workers = Array.from({ length: inFlight }, worker);
  return {
    completions,
    window(from, to) {
      const inside = completions.filter((c) => c.at >= from && c.at < to);
      const ok = inside.filter((c) => c.ok);
      const sorted = ok.map((c) => c.ms).sort((a, b) => a - b);
      return {
        ok: ok.length,
        failed: inside.length - ok.length,
        rps: ok.length / Math.max(0.001, (to - from) / 1000),
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
      };
    },
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}
