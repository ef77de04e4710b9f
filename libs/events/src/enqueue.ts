import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { toBinary } from "@bufbuild/protobuf";
import type { Queryable } from "@fintech/db";
import { currentSpan, formatTraceparent, TRACEPARENT_HEADER } from "@fintech/platform";
import { InvalidEventError } from "./errors.js";
import { newEventId } from "./event-id.js";

/** An event to publish, as domain code sees it: un-namespaced type and a protobuf message. */
export interface OutboxEvent<Desc extends DescMessage = DescMessage> {
  /** Event type, also its subject before namespacing, e.g. `"fx.rate.updated"`. */
  type: string;
  /** Generated message descriptor, e.g. `RateUpdatedSchema`. */
  schema: Desc;
  message: MessageShape<Desc>;
  /** Event id (`ce-id`, `Nats-Msg-Id`); default a new time-ordered UUID (v7). */
  id?: string;
  /** Extra NATS headers, e.g. `traceparent`; the CloudEvents headers set by the relay take precedence. */
  headers?: Record<string, string>;
}

// A NATS subject of literal tokens: no wildcards, no empty tokens, no whitespace.
const SUBJECT = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/**
 * Writes an event to the outbox through `client`, which must be the caller's transaction so that the event exists
 * if and only if the state change commits. The relay publishes it after the commit.
 * @returns the event id.
 */
export async function enqueue<Desc extends DescMessage>(
  client: Queryable,
  event: OutboxEvent<Desc>,
): Promise<string> {
  if (!SUBJECT.test(event.type)) {
    throw new InvalidEventError(`event type ${JSON.stringify(event.type)} is not a literal NATS subject`);
  }
  const id = event.id ?? newEventId();
  const payload = toBinary(event.schema, event.message);
  // The event joins the trace of the work that caused it (an RPC or another event's handler).
  const span = currentSpan();
  const headers =
    span === undefined || event.headers?.[TRACEPARENT_HEADER] !== undefined
      ? (event.headers ?? {})
      : { ...event.headers, [TRACEPARENT_HEADER]: formatTraceparent(span) };
  await client.query("INSERT INTO outbox (id, subject, type, payload, headers) VALUES ($1, $2, $3, $4, $5)", [
    id,
    event.type,
    event.type,
    Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
    headers,
  ]);
  return id;
}
