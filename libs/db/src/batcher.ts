const FAILED: unique symbol = Symbol("batch item failed");

/** What a flush returns for an item that failed on its own while the rest of its batch went through. */
export interface ItemFailure {
  readonly [FAILED]: true;
  readonly error: unknown;
}

/** Marks one item's outcome in a flush's results as a failure: its submit rejects with `error`. */
export function itemFailed(error: unknown): ItemFailure {
  return { [FAILED]: true, error };
}

function isItemFailure(value: unknown): value is ItemFailure {
  return typeof value === "object" && value !== null && FAILED in value;
}

export interface BatcherOptions<T, R> {
  /**
   * Does the work of one batch in one go (one statement, one transaction) and returns one outcome per item,
   * in the items' order: its result, or {@link itemFailed} for an item that failed alone. A throw fails every
   * item of the batch.
   */
  flush(items: readonly T[]): Promise<ReadonlyArray<R | ItemFailure>>;
  /**
   * How much of a batch's room an item takes (default 1): a batch holds items up to `maxBatch` in total, but
   * an item is never split, so one larger than `maxBatch` makes a batch of its own.
   */
  sizeOf?: ((item: T) => number) | undefined;
  /** Most room a batch has, in `sizeOf` units (items, by default). */
  maxBatch: number;
  /** Batches being flushed at once. */
  concurrency: number;
  /**
   * Items with the same key never share a batch (two writes of one row in one statement would both look
   * first): a later one waits for a following batch, and items behind it may go ahead. Default: no keys.
   */
  keyOf?: ((item: T) => string) | undefined;
  /**
   * When a batch ends, start the next at once with the items waiting (true), or at the end of the event-loop
   * turn (false, the default), so that items arriving in that turn join it and batches grow with the load.
   */
  restartAtOnce?: boolean | undefined;
}

/** Coalesces concurrent submissions into shared flushes; see {@link createBatcher}. */
export interface Batcher<T, R> {
  /** Queues one item; resolves with its outcome once the flush holding it has finished, or rejects with its error. */
  submit(item: T): Promise<R>;
  /** Resolves once everything submitted so far has been flushed. */
  idle(): Promise<void>;
}

interface Pending<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: many concurrent calls become few round trips. An item submitted while a batch slot is free
 * waits only until the end of the current event-loop turn, so items submitted together (decoded from the same
 * socket read) share a flush; items submitted while `concurrency` flushes are running wait, and the next flush
 * takes every item waiting, in arrival order, up to `maxBatch`. Alone, an item is flushed at once; under load,
 * one flush serves many, and batches grow with the load instead of queueing one transaction per call.
 */
export function createBatcher<T, R>(opts: BatcherOptions<T, R>): Batcher<T, R> {
  const { flush, maxBatch, concurrency, keyOf } = opts;
  const sizeOf = opts.sizeOf ?? (() => 1);
  let queue: Array<Pending<T, R>> = [];
  let running = 0;
  let scheduled = false;
  let idleWaiters: Array<() => void> = [];

  function take(): Array<Pending<T, R>> {
    const batch: Array<Pending<T, R>> = [];
    const keys = new Set<string>();
    const left: Array<Pending<T, R>> = [];
    let room = 0;
    let full = false;
    for (const p of queue) {
      const key = full ? undefined : keyOf?.(p.item);
      if (full || (key !== undefined && keys.has(key))) {
        left.push(p);
        continue;
      }
      const size = sizeOf(p.item);
      if (batch.length > 0 && room + size > maxBatch) {
        full = true;
        left.push(p);
        continue;
      }
      if (key !== undefined) keys.add(key);
      room += size;
      batch.push(p);
      if (room >= maxBatch) full = true;
    }
    queue = left;
    return batch;
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    setImmediate(drain);
  }

  function drain(): void {
    scheduled = false;
    while (running < concurrency && queue.length > 0) {
      running++;
      void run(take());
    }
    if (running === 0 && queue.length === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const done of waiters) done();
    }
  }

  async function run(batch: Array<Pending<T, R>>): Promise<void> {
    try {
      const outcomes = await flush(batch.map((p) => p.item));
      batch.forEach((p, i) => {
        const outcome = outcomes[i];
        if (i >= outcomes.length) {
          p.reject(new Error(`the flush returned ${outcomes.length} outcomes for ${batch.length} items`));
        } else if (isItemFailure(outcome)) {
          p.reject(outcome.error);
        } else {
          p.resolve(outcome as R);
        }
      });
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      running--;
      if (opts.restartAtOnce) drain();
      else schedule();
    }
  }

  return {
    submit(item) {
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        schedule();
      });
    },
    idle() {
      if (running === 0 && queue.length === 0 && !scheduled) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
  };
}
