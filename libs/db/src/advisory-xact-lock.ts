import { advisoryKey } from "./advisory-key.js";
import type { Queryable } from "./queryable.js";

/**
 * Takes the transaction-level advisory lock `name` (in the schema of `tx`'s search_path; the same locks as
 * {@link withAdvisoryLock}'s) when it is free, without waiting. Held until `tx` commits or rolls back: the
 * simpler form where a job's work fits in one transaction.
 * @returns true when taken; false when another session holds it.
 */
export async function tryAdvisoryXactLock(tx: Queryable, name: string): Promise<boolean> {
  const { rows } = await tx.query<{ locked: boolean }>(
    `SELECT pg_try_advisory_xact_lock(${advisoryKey("$1")}) AS locked`,
    [name],
  );
  return rows[0]?.locked === true;
}
