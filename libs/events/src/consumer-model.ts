import type { Message } from "@bufbuild/protobuf";
import type { childSpan } from "@fintech/platform";
import type { PoolClient } from "pg";

// The types a consumer, its batch processor and their handlers share: the event as a handler sees it and the
// batch handler's contract. They live here, not in consumer.ts, so that the batch processor needs nothing of
// the consumer that starts it.

/** A W3C trace context: the span a piece of work ran in. */
export type TraceContext = ReturnType<typeof childSpan>;

/** An event as a handler receives it. */
export interface ConsumedEvent<M = Message> {
  /** The event's id: its inbox key. `ce-id`, given at enqueue; in batch mode the id `decode` gave it. */
  id: string;
  /** `ce-type`, un-namespaced, e.g. `"fx.rate.updated"`. */
  type: string;
  /** `ce-source`, e.g. `"fx"`. */
  source: string;
  /** `ce-time`: when the event was enqueued (its outbox row was written). */
  time: Date;
  /** The span of the work that published the event (its `traceparent`); undefined when it carried none. */
  trace: TraceContext | undefined;
  /** The decoded payload. */
  message: M;
}

/** Work a batch handler leaves for after its transaction commits and before its messages are acknowledged. */
export type AfterCommit = () => Promise<void>;

/**
 * What a batch consumer makes of one message: the events it carries, each with its own inbox id (one event with
 * the message's `ce-id` as a rule; a message may carry several), or acknowledge it unread (`ignore`), or
 * terminate it (`poison`: a payload redelivery cannot fix, the reason is logged). An event's inbox row is
 * (`inbox`, `id`), `inbox` the durable's name unless given: a consumer serving several purposes (see
 * {@link combinedBatches}) keeps each purpose's own rows.
 */
export type Decoded<M> =
  | { events: Array<{ id: string; message: M; inbox?: string }> }
  | { ignore: true }
  | { poison: string };

/** The handler of a batch consumer. */
export interface BatchHandler<M> {
  /** Decodes a message on arrival, in a span of its own trace; throwing is `poison`. */
  decode(event: ConsumedEvent<Uint8Array>): Decoded<M>;
  /**
   * Handles a batch's events that are not in the inbox yet, in stream order, in the transaction that records
   * them there (a redelivered event never reaches it twice). Runs in one span for the whole batch; each event
   * carries its own `trace`. May return work to do after the commit, before the messages are acknowledged.
   */
  handle(events: ConsumedEvent<M>[], tx: PoolClient): Promise<AfterCommit | undefined>;
  /** Most events in one batch (whole messages are never split); default 500. */
  size?: number;
  /**
   * How long, in ms, the oldest event waiting may wait for more to share its batch; default 0 (a batch is
   * whatever has arrived). Each batch costs a transaction, an inbox statement and the handler's statements
   * whatever its size, so a consumer whose work can be a few milliseconds late (mail, webhooks, analytics)
   * handles a steady trickle of events in a few larger batches instead of one transaction each. A full batch
   * (`size`) or a stopping consumer does not wait. Messages `decode` ignores are then acknowledged together too:
   * with the next batch, or `lingerMs` after the first of them.
   */
  lingerMs?: number;
  /**
   * Batches handled at the same time; default 1: batches in stream order, each after the previous committed.
   * More overlap one batch's work with another's, for handlers whose effects do not depend on order.
   */
  concurrency?: number;
  /** Messages delivered and not yet acknowledged at most (the pull-ahead); default 4 x size x concurrency. */
  maxAckPending?: number;
}
