export interface BatcherOptions<T, R> {
  /** Does the work of one batch; returns one result per item, in the items' order. */
  run(items: T[]): Promise<R[]>;
  /** Items with the same key never share a batch: a later one waits for the next batch. */
  keyOf(item: T): string;
  /** Most items per batch; default 200. */
  maxBatch?: number;
  /** Batches running at once; default 2. */
  maxConcurrent?: number;
}

interface Pending<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}

/**
 * Turns many concurrent calls into few round trips, the way a database's group commit does: an item submitted
 * while `maxConcurrent` batches are running waits for the next batch, which takes every item waiting (up to
 * `maxBatch`). Alone, an item runs at once (after the current turn of the event loop, so items submitted
 * together share a batch); under load, one statement serves many. A failed batch fails each of its items.
 */
export function createBatcher<T, R>(options: BatcherOptions<T, R>) {
  const { run, keyOf, maxBatch = 200, maxConcurrent = 2 } = options;
  const queue: Pending<T, R>[] = [];
  let running = 0;
  let scheduled = false;
  const waiting: Array<() => void> = [];

  function take(): Pending<T, R>[] {
    const batch: Pending<T, R>[] = [];
    const keys = new Set<string>();
    for (let i = 0; i < queue.length && batch.length < maxBatch; ) {
      const p = queue[i] as Pending<T, R>;
      const key = keyOf(p.item);
      if (keys.has(key)) {
        i++;
      } else {
        keys.add(key);
        batch.push(p);
        queue.splice(i, 1);
      }
    }
    return batch;
  }

  async function runBatch(batch: Pending<T, R>[]): Promise<void> {
    try {
      const results = await run(batch.map((p) => p.item));
      batch.forEach((p, i) => {
        p.resolve(results[i] as R);
      });
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }

  function drain(): void {
    scheduled = false;
    while (running < maxConcurrent && queue.length > 0) {
      running++;
      void runBatch(take()).finally(() => {
        running--;
        if (queue.length > 0) drain();
        else if (running === 0) for (const done of waiting.splice(0)) done();
      });
    }
  }

  return {
    submit(item: T): Promise<R> {
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(drain);
        }
      });
    },

    /** Resolves once everything submitted so far has run. */
    async idle(): Promise<void> {
      if (queue.length === 0 && running === 0 && !scheduled) return;
      await new Promise<void>((resolve) => waiting.push(resolve));
    },
  };
}
