import type { Queryable } from "@fintech/db";

/**
 * Records events in `consumer`'s inbox, in the transaction that applies their effect; returns the ids that were
 * not there yet (the others were handled before: a redelivery, or the same event published twice). An id given
 * twice counts once.
 */
export async function recordInInbox(db: Queryable, consumer: string, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const { rows } = await db.query<{ event_id: string }>(
    `INSERT INTO inbox (consumer, event_id) SELECT $1, id FROM unnest($2::text[]) AS id
     ON CONFLICT DO NOTHING RETURNING event_id`,
    // In id order: two replicas recording overlapping events at once (a redelivery while the first delivery still
    // runs) take the inbox keys in the same order, so one waits for the other instead of deadlocking.
    [consumer, [...new Set(ids)].sort()],
  );
  return new Set(rows.map((r) => r.event_id));
}
