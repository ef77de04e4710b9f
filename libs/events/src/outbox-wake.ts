import { AsyncResource } from "node:async_hooks";
import type { Queryable } from "@fintech/db";
import { afterCommit } from "@fintech/db";
import type { Pool } from "pg";

// The running relays of this process, by the pool they read the outbox through.
const relays = new WeakMap<Pool, Set<() => void>>();

function wakeRelays(pool: Pool): void {
  for (const wake of relays.get(pool) ?? []) wake();
}

/**
 * Tells this process's relays of the pool behind `db` that outbox rows were written through it: they run a pass
 * once that has committed (libs/db's afterCommit), instead of at their next poll. Call it after every statement
 * that inserts into the outbox; enqueue does. Relays of other processes find the rows at their poll.
 */
export function outboxWritten(db: Queryable): void {
  afterCommit(db, wakeRelays);
}

/**
 * Has `wake` called whenever {@link outboxWritten} reports rows written through `pool`; returns the undo. `wake`
 * runs in the context this is called in (a relay's start), not the writer's: a pass woken by a request's commit is
 * not part of that request's trace, nor are its log lines.
 */
export function wakeOnOutboxWrites(pool: Pool, wake: () => void): () => void {
  let wakes = relays.get(pool);
  if (wakes === undefined) {
    wakes = new Set();
    relays.set(pool, wakes);
  }
  const own = AsyncResource.bind(wake);
  wakes.add(own);
  return () => wakes.delete(own);
}
