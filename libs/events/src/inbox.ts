import type { Queryable } from "@fintech/db";

/**
 * Records events in `consumer`'s inbox, in the transaction that applies their effect; returns the ids that were
 * not there yet (the others were handled before: a redelivery, or the same event published twice). An id given
 * twice counts once.
 */
export async function recordInInbox(db: Queryable, consumer: string, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const { rows } = await db.query<{ event_id: string }>(insertInto("$1", "$2"), [consumer, inOrder(ids)]);
  return new Set(rows.map((r) => r.event_id));
}

const insertInto = (consumer: string, ids: string) =>
  `INSERT INTO inbox (consumer, event_id) SELECT ${consumer}, id FROM unnest(${ids}::text[]) AS id
   ON CONFLICT DO NOTHING RETURNING event_id`;

// In id order: two replicas recording overlapping events at once (a redelivery while the first delivery still
// runs) take the inbox keys in the same order, so one waits for the other instead of deadlocking.
const inOrder = (ids: string[]): string[] => [...new Set(ids)].sort();

/** Characters of a consumer name or event id that can be written into SQL as they are. */
const PLAIN = /^[A-Za-z0-9._:-]+$/;

/**
 * recordInInbox's statement with its values written in, for withTransaction's `opening` (sent with BEGIN, one
 * round trip fewer), when the consumer and every id are plain words (UUIDs, durable names); undefined otherwise,
 * and then recordInInbox runs it with parameters.
 */
export function inboxOpening(consumer: string, ids: string[]): string | undefined {
  if (ids.length === 0 || !PLAIN.test(consumer) || !ids.every((id) => PLAIN.test(id))) return undefined;
  // Each element quoted, so that an id such as "null" stays text.
  return insertInto(
    `'${consumer}'`,
    `'{${inOrder(ids)
      .map((id) => `"${id}"`)
      .join(",")}}'`,
  );
}

/** The ids recorded: read from the opening's result when it ran with BEGIN, else by recordInInbox. */
export async function recordedInInbox(
  db: Queryable,
  consumer: string,
  ids: string[],
  opened: { rows: Array<{ event_id: string }> } | undefined,
): Promise<Set<string>> {
  if (opened === undefined) return recordInInbox(db, consumer, ids);
  return new Set(opened.rows.map((r) => r.event_id));
}
