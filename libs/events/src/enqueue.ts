import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { toBinary } from "@bufbuild/protobuf";
import type { Queryable } from "@fintech/db";
import { currentSpan, formatTraceparent, TRACEPARENT_HEADER } from "@fintech/platform";
import { InvalidEventError } from "./errors.js";
import { newEventId } from "./event-id.js";
import { outboxWritten } from "./outbox-wake.js";

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
 * An outbox row exactly as {@link enqueue} writes it, for services whose hot path inserts the change and its
 * events in one statement of their own (columns id, subject, type, payload, headers; pass `headers` as jsonb).
 * It carries the current trace (W3C traceparent) so consumers continue it.
 */
export interface OutboxRow {
  id: string;
  subject: string;
  type: string;
  payload: Buffer;
  headers: Record<string, string>;
}

export function outboxRow<Desc extends DescMessage>(event: OutboxEvent<Desc>): OutboxRow {
  if (!SUBJECT.test(event.type)) {
    throw new InvalidEventError(`event type ${JSON.stringify(event.type)} is not a literal NATS subject`);
  }
  const payload = toBinary(event.schema, event.message);
  // The event joins the trace of the work that caused it (an RPC or another event's handler).
  const span = currentSpan();
  const headers =
    span === undefined || event.headers?.[TRACEPARENT_HEADER] !== undefined
      ? (event.headers ?? {})
      : { ...event.headers, [TRACEPARENT_HEADER]: formatTraceparent(span) };
  return {
    id: event.id ?? newEventId(),
    subject: event.type,
    type: event.type,
    payload: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
    headers,
  };
}

/**
 * Writes the event into the outbox in the caller's transaction (`client`), so it is published
 * if and only if the state change commits. The relay publishes it after the commit (outboxWritten).
 * @returns the event id.
 */
export async function enqueue<Desc extends DescMessage>(
  client: Queryable,
  event: OutboxEvent<Desc>,
): Promise<string> {
  const row = outboxRow(event);
  await client.query("INSERT INTO outbox (id, subject, type, payload, headers) VALUES ($1, $2, $3, $4, $5)", [
    row.id,
    row.subject,
    row.type,
    row.payload,
    row.headers,
  ]);
  outboxWritten(client);
  return row.id;
}
