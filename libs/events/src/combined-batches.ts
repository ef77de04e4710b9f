import type { Logger } from "pino";
import type { AfterCommit, BatchHandler, Decoded } from "./consumer-model.js";

/** One of the purposes a consumer serves: the events it takes, its handler and its own inbox rows. */
export interface BatchPurpose<M = unknown> {
  /**
   * The purpose's inbox name: its events' rows are (inbox, id), whichever durable delivers them. A purpose that
   * had a durable of its own keeps that name, so that the rows its durable wrote still count.
   */
  inbox: string;
  /** The event types it takes, as a subject filter inside the stream: `"wallet.>"`, `"wallet.audit.recorded"`. */
  subject: string;
  handler: BatchHandler<M>;
}

/** An event of one purpose (its index among the purposes) in a combined batch. */
export interface PurposeEvent {
  purpose: number;
  message: unknown;
}

/** Whether a NATS subject filter (`*` one token, `>` the rest) takes an event type such as `"wallet.audit.recorded"`. */
export function subjectMatches(filter: string, type: string): boolean {
  const wanted = filter.split(".");
  const tokens = type.split(".");
  for (const [i, token] of wanted.entries()) {
    if (token === ">") return tokens.length > i;
    if (i >= tokens.length || (token !== "*" && token !== tokens[i])) return false;
  }
  return wanted.length === tokens.length;
}

/**
 * One batch handler for several purposes on one stream, so that a message is delivered once for all of them
 * instead of once per purpose's durable. Each message is decoded by every purpose whose subject takes its type;
 * a batch's events go to each purpose's handler in stream order, one purpose after another, in the batch's one
 * transaction, and each event's inbox row is its purpose's. A purpose that cannot decode a message others can
 * handle loses its part (logged at error level, as a terminated message is); a message no purpose can decode is
 * terminated. The purposes share their fate: a batch whose one purpose fails is retried for all of them.
 */
export function combinedBatches(
  purposes: readonly BatchPurpose[],
  options: { log: Logger } & Pick<BatchHandler<PurposeEvent>, "size" | "lingerMs">,
): BatchHandler<PurposeEvent> {
  const { log, ...batching } = options;
  // The purposes that take each type seen, by index: a stream carries a handful of types (a stream that
  // carried many more would only be matched again, not remembered).
  const takers = new Map<string, number[]>();
  const takersOf = (type: string): number[] => {
    let found = takers.get(type);
    if (found === undefined) {
      found = [...purposes.keys()].filter((i) => subjectMatches(purposes[i]?.subject ?? "", type));
      if (takers.size < 256) takers.set(type, found);
    }
    return found;
  };
  return {
    decode(event) {
      const events: Array<{ id: string; message: PurposeEvent; inbox: string }> = [];
      const poisoned: string[] = [];
      for (const purpose of takersOf(event.type)) {
        const { inbox, handler } = purposes[purpose] as BatchPurpose;
        let decoded: Decoded<unknown>;
        try {
          decoded = handler.decode(event);
        } catch (err) {
          decoded = { poison: err instanceof Error ? err.message : String(err) };
        }
        if ("poison" in decoded) poisoned.push(`${inbox}: ${decoded.poison}`);
        else if (!("ignore" in decoded)) {
          for (const e of decoded.events) {
            events.push({ id: e.id, inbox: e.inbox ?? inbox, message: { purpose, message: e.message } });
          }
        }
      }
      if (poisoned.length > 0) {
        if (events.length === 0) return { poison: poisoned.join("; ") };
        log.error(
          { eventId: event.id, type: event.type, reasons: poisoned },
          "event cannot be handled for every purpose; the others handle it",
        );
      }
      return events.length === 0 ? { ignore: true } : { events };
    },
    async handle(events, tx) {
      const after: AfterCommit[] = [];
      for (const [purpose, { handler }] of purposes.entries()) {
        const own = events
          .filter((e) => e.message.purpose === purpose)
          .map((e) => ({ ...e, message: e.message.message }));
        if (own.length === 0) continue;
        const then = await handler.handle(own, tx);
        if (then !== undefined) after.push(then);
      }
      if (after.length === 0) return undefined;
      return async () => {
        for (const then of after) await then();
      };
    },
    ...batching,
  };
}
