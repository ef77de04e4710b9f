import type { Message } from "@bufbuild/protobuf";
import { fromBinary } from "@bufbuild/protobuf";
import type { EventHandler } from "./consumer.js";
import type { BatchHandler } from "./consumer-model.js";

/** An event decoded by the handler of its type, waiting for its batch. */
export interface HandledEvent {
  handler: EventHandler;
  message: Message;
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
    decode(event) {
      const handler = handlers[event.type];
      if (handler === undefined) return { ignore: true };
      return {
        events: [{ id: event.id, message: { handler, message: fromBinary(handler.schema, event.message) } }],
      };
    },
    async handle(events, tx) {
      for (const event of events)
        await event.message.handler.handle({ ...event, message: event.message.message }, tx);
      return undefined;
    },
    ...options,
  };
}
