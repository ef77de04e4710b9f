import type { Queryable } from "@fintech/db";

/** One inbox row: an event that a consumer (a purpose such as one service's mails) has applied. */
export interface InboxEntry {
  consumer: string;
  eventId: string;
}

/** An entry as one string, to look it up in a Set. */
export const inboxKey = (entry: InboxEntry): string => `${entry.consumer}\n${entry.eventId}`;

/**
 * Records events in `consumer`'s inbox, in the transaction that applies their effect; returns the ids that were
 * not there yet (the others were handled before: a redelivery, or the same event published twice). An id given
 * twice counts once.
 */
export async function recordInInbox(db: Queryable, consumer: string, ids: string[]): Promise<Set<string>> {
  const recorded = await recordedInInbox(
    db,
    ids.map((eventId) => ({ consumer, eventId })),
    undefined,
  );
  return new Set(ids.filter((eventId) => recorded.has(inboxKey({ consumer, eventId }))));
}

const insertInto = (consumers: string, ids: string) =>
  `INSERT INTO inbox (consumer, event_id) SELECT * FROM unnest(${consumers}::text[], ${ids}::text[])
   ON CONFLICT DO NOTHING RETURNING consumer, event_id`;

// In key order: two replicas recording overlapping events at once (a redelivery while the first delivery still
// runs) take the inbox keys in the same order, so one waits for the other instead of deadlocking.
function inOrder(entries: InboxEntry[]): InboxEntry[] {
  const distinct = new Map(entries.map((e) => [inboxKey(e), e]));
  return [...distinct.keys()].sort().map((key) => distinct.get(key) as InboxEntry);
}

/** Characters of a consumer name or event id that can be written into SQL as they are. */
const PLAIN = /^[A-Za-z0-9._:-]+$/;

// Each element quoted, so that an id such as "null" stays text.
const arrayLiteral = (values: string[]) => `'{${values.map((v) => `"${v}"`).join(",")}}'`;

/**
 * The statement that records `entries`, with its values written in, for withTransaction's `opening` (sent with
 * BEGIN, one round trip fewer), when every consumer and id is a plain word (UUIDs, durable names); undefined
 * otherwise, and then recordedInInbox runs it with parameters.
 */
export function inboxOpening(entries: InboxEntry[]): string | undefined {
  if (entries.length === 0 || !entries.every((e) => PLAIN.test(e.consumer) && PLAIN.test(e.eventId))) {
    return undefined;
  }
  const ordered = inOrder(entries);
  return insertInto(
    arrayLiteral(ordered.map((e) => e.consumer)),
    arrayLiteral(ordered.map((e) => e.eventId)),
  );
}

/**
 * The entries recorded now, as {@link inboxKey}s (the others were there already): read from the opening's result
 * when it ran with BEGIN, else recorded here. An entry given twice counts once.
 */
export async function recordedInInbox(
  db: Queryable,
  entries: InboxEntry[],
  opened: { rows: Array<{ consumer: string; event_id: string }> } | undefined,
): Promise<Set<string>> {
  let rows = opened?.rows;
  if (rows === undefined) {
    if (entries.length === 0) return new Set();
    const ordered = inOrder(entries);
    ({ rows } = await db.query<{ consumer: string; event_id: string }>(insertInto("$1", "$2"), [
      ordered.map((e) => e.consumer),
      ordered.map((e) => e.eventId),
    ]));
  }
  return new Set(rows.map((r) => inboxKey({ consumer: r.consumer, eventId: r.event_id })));
}
