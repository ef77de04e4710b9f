import type { Batcher, ItemFailure } from "@fintech/db";
import { createBatcher, isSerializationFailure, isTransientDbError, itemFailed } from "@fintech/db";

// Group commit for the wallet's hot writes (the recording step, one-row transitions, kept answers): concurrent
// requests share one statement, so one commit, instead of one each. A request is answered only after the
// statement holding its rows has committed, and each still gets its own result or error.

/**
 * Runs `work` for `items` together (one statement, one call to another service). When it fails for a reason one
 * of them may have caused (a constraint, an invalid request, a deadlock with another statement), each runs again
 * alone, so that a failure belongs to its own item only; a `transient` failure (the database or the service
 * away) is every item's. Returns one outcome per item, in their order: its value, or its own failure.
 */
export async function togetherOrAlone<T, R>(
  items: readonly T[],
  work: (items: readonly T[]) => Promise<R[]>,
  transient: (error: unknown) => boolean,
): Promise<Array<R | ItemFailure>> {
  try {
    return await work(items);
  } catch (error) {
    if (items.length === 1 || transient(error)) return items.map(() => itemFailed(error));
    return Promise.all(
      items.map(async (item): Promise<R | ItemFailure> => {
        try {
          const [value] = await work([item]);
          return value as R;
        } catch (err) {
          return itemFailed(err);
        }
      }),
    );
  }
}

/** A database failure no single item caused: every item of the statement gets it. */
const databaseAway = (error: unknown) => isTransientDbError(error) && !isSerializationFailure(error);

/**
 * Splits `items` into rounds in which no two share a key of `keysOf`, in arrival order, and runs each round as
 * one shared statement, one after the other.
 */
async function inRounds<T, R>(
  items: readonly T[],
  keysOf: (item: T) => string[],
  statement: (items: readonly T[]) => Promise<R[]>,
): Promise<Array<R | ItemFailure>> {
  // Every slot is filled: each round takes at least the first item left, so every item is in one.
  const results = new Array<R | ItemFailure>(items.length);
  let left = items.map((item, index) => ({ item, index }));
  while (left.length > 0) {
    const taken = new Set<string>();
    const round: typeof left = [];
    const later: typeof left = [];
    for (const entry of left) {
      const keys = keysOf(entry.item);
      if (keys.some((k) => taken.has(k))) {
        later.push(entry);
      } else {
        for (const k of keys) taken.add(k);
        round.push(entry);
      }
    }
    const settled = await togetherOrAlone(
      round.map((e) => e.item),
      statement,
      databaseAway,
    );
    round.forEach((e, i) => {
      results[e.index] = settled[i] as R | ItemFailure;
    });
    left = later;
  }
  return results;
}

export interface GroupCommitOptions<T, R> {
  /** Writes `items` in one statement (one commit); returns one result per item, in their order. */
  statement: (items: readonly T[]) => Promise<R[]>;
  /** Items sharing a key never share a statement (a later one goes in the next, after it). */
  keysOf: (item: T) => string[];
  /** Most items per statement; default 200. */
  maxItems?: number;
  /** Statements running at once; default 2, so one fills while another commits. */
  concurrency?: number;
}

/**
 * A statement that concurrent callers share (libs/db's batcher): items submitted while `concurrency`
 * statements run wait, and the next statement takes every item waiting (up to `maxItems`); alone, an item
 * goes at the end of the current turn of the event loop, so items submitted together share one. Under load,
 * statements grow with the load, so one commit serves many requests. Each caller gets its own result, or its
 * own error, once the statement holding its item has committed.
 */
export function groupCommit<T, R>(opts: GroupCommitOptions<T, R>): Batcher<T, R> {
  const { statement, keysOf, maxItems = 200, concurrency = 2 } = opts;
  return createBatcher<T, R>({
    maxBatch: maxItems,
    concurrency,
    flush: (items) => inRounds(items, keysOf, statement),
  });
}
