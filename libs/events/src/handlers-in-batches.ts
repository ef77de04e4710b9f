import type { DescMessage, Message } from "@bufbuild/protobuf";
import { fromBinary } from "@bufbuild/protobuf";
import type { EventHandler } from "./consumer.js";
import type { BatchHandler, ConsumedEvent, Decoded } from "./consumer-model.js";

/** An event decoded with the schema of what takes its type, waiting for its batch. */
export interface TypedEvent<H extends { schema: DescMessage }> {
  handler: H;
  message: Message;
}

/** An event decoded by the handler of its type, waiting for its batch. */
export type HandledEvent = TypedEvent<EventHandler>;

/**
 * A batch consumer's `decode` over what takes each type (a handler, anything with the type's `schema`): a type
 * nothing takes is acknowledged unread, a payload that does not decode is terminated.
 */
export function decodeByType<H extends { schema: DescMessage }>(
  byType: Record<string, H>,
): (event: ConsumedEvent<Uint8Array>) => Decoded<TypedEvent<H>> {
  return (event) => {
    const handler = byType[event.type];
    if (handler === undefined) return { ignore: true };
    return {
      events: [{ id: event.id, message: { handler, message: fromBinary(handler.schema, event.message) } }],
    };
  };
}

/**
 * Per-type handlers, as a consumer's `handlers` takes them, run in batch mode: `batch: handlersInBatches({...})`.
 * Each event is decoded with its type's schema on arrival (a type without a handler is acknowledged unread, a
 * payload that does not decode is terminated) and handled by its handler in stream order, in the batch's one
 * transaction. A batch that fails is handled again message by message, as in every batch consumer, so a handler
 * keeps the per-event isolation it had while its events share commits.
 */
export function handlersInBatches(
  handlers: Record<string, EventHandler>,
  options: Pick<BatchHandler<HandledEvent>, "size" | "lingerMs"> = {},
): BatchHandler<HandledEvent> {
  return {
    decode: decodeByType(handlers),
    async handle(events, tx) {
      for (const event of events)
        await event.message.handler.handle({ ...event, message: event.message.message }, tx);
      return undefined;
    },
    ...options,
  };
}
