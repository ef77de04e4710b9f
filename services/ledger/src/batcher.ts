/** Coalesces calls that arrive together into shared runs; see {@link createBatcher}. */
export interface Batcher<I, O> {
  /** Queues one call's items; resolves with one output per item once the run holding the call has finished. */
  submit(items: readonly I[]): Promise<O[]>;
  /** Resolves when no run is in progress and nothing is queued. */
  idle(): Promise<void>;
}

export interface BatcherOptions<I, O> {
  /** Most items in one run; a call is never split, so one call may be up to this size. */
  maxItems: number;
  /** Runs in progress at once. */
  concurrency: number;

  /** Handles several calls together; returns, per call, one output per item. A throw fails every call in it. */
  run: (calls: ReadonlyArray<readonly I[]>) => Promise<O[][]>;
}

interface Queued<I, O> {
  items: readonly I[];
  resolve: (out: O[]) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for calls: calls submitted while `concurrency` runs are in progress wait, and the next run takes
 * all of them (up to `maxItems`, in arrival order). A call arriving while a slot is free waits only until the
 * end of the current event-loop turn, so calls decoded from the same socket read share a run. Under load, runs
 * grow with the load instead of queueing one transaction per call.
 */
export function createBatcher<I, O>(opts: BatcherOptions<I, O>): Batcher<I, O> {
  let queue: Array<Queued<I, O>> = [];
  let running = 0;
  let scheduled = false;
  let idleWaiters: Array<() => void> = [];

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  }

  function flush(): void {
    scheduled = false;
    while (running < opts.concurrency && queue.length > 0) {
      let n = 0;
      let take = 0;
      for (const q of queue) {
        if (take > 0 && n + q.items.length > opts.maxItems) break;
        n += q.items.length;
        take++;
      }
      const calls = queue.slice(0, take);
      queue = queue.slice(take);
      running++;
      void start(calls);
    }
    if (running === 0 && queue.length === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  async function start(calls: Array<Queued<I, O>>): Promise<void> {
    try {
      const outputs = await opts.run(calls.map((c) => c.items));
      calls.forEach((c, i) => {
        c.resolve(outputs[i] ?? []);
      });
    } catch (err) {
      for (const c of calls) c.reject(err);
    } finally {
      running--;
      schedule();
    }
  }

  return {
    submit(items) {
      return new Promise<O[]>((resolve, reject) => {
        queue.push({ items, resolve, reject });
        schedule();
      });
    },
    idle() {
      if (running === 0 && queue.length === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
  };
}
