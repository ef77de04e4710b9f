import { fromBinary } from "@bufbuild/protobuf";
import type { BatchHandler, ConsumedEvent, Decoded } from "@fintech/events";
import { ReviewDecidedSchema, TransactionScoredSchema } from "@fintech/proto/fintech/fraud/v1/events_pb.js";
import { UserStatusChangedSchema } from "@fintech/proto/fintech/identity/v1/events_pb.js";
import { TransactionEventSchema, WalletCreatedSchema } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import type pg from "pg";
import type { StreamPurpose } from "./consumers.js";
import type { WebhookEvent } from "./event-bodies.js";
import {
  reviewDecidedEvent,
  reviewHeldEvent,
  transactionEvent,
  userStatusEvent,
  walletEvent,
} from "./event-bodies.js";
import type { WebhookEventType } from "./model.js";

/**
 * Keeps a batch of events and queues their deliveries, in the consumer's transaction; returns how many were
 * queued.
 */
export type RecordEvents = (
  tx: pg.PoolClient,
  events: ReadonlyArray<{ id: string; event: WebhookEvent }>,
) => Promise<number>;

/** The streams webhooks come from, with the inbox name of each (once the name of its own durable). */
export const WEBHOOK_SOURCES = [
  { context: "wallet", inbox: "notifications-webhooks-wallet", subject: "wallet.>" },
  { context: "fraud", inbox: "notifications-webhooks-fraud", subject: "fraud.>" },
  { context: "identity", inbox: "notifications-webhooks-identity", subject: "identity.user.>" },
] as const;

const TRANSACTION_TYPES: Record<string, WebhookEventType> = {
  "wallet.transaction.created": "transaction.created",
  "wallet.transaction.completed": "transaction.completed",
  "wallet.transaction.failed": "transaction.failed",
  "wallet.transaction.reversed": "transaction.reversed",
  "wallet.transaction.refunded": "transaction.refunded",
};

/**
 * The webhook event a consumed event becomes, or undefined for one no webhook carries (a payment scored and let
 * through, a profile change, ...). Throws on a payload that does not decode.
 */
export function webhookEventOf(event: ConsumedEvent<Uint8Array>): WebhookEvent | undefined {
  const { type, message: data, time } = event;
  const transactionType = TRANSACTION_TYPES[type];
  if (transactionType !== undefined) {
    return transactionEvent(transactionType, fromBinary(TransactionEventSchema, data), time);
  }
  switch (type) {
    case "wallet.created":
      return walletEvent(fromBinary(WalletCreatedSchema, data), time);
    case "fraud.transaction.scored":
      return reviewHeldEvent(fromBinary(TransactionScoredSchema, data), time);
    case "fraud.review.decided":
      return reviewDecidedEvent(fromBinary(ReviewDecidedSchema, data), time);
    case "identity.user.status_changed":
      return userStatusEvent(fromBinary(UserStatusChangedSchema, data), time);
    default:
      return undefined;
  }
}

/**
 * The purposes that turn other services' events into webhook events, one per stream: each event is kept once,
 * under the id it was published with (so a redelivered one is the same webhook), and queued for every endpoint
 * that wants it, in the transaction that records it in the inbox; a batch's events are kept and queued in one
 * statement. `queued` runs after a commit that queued deliveries, so the worker looks at once rather than at its
 * next poll.
 */
export function webhookPurposes(deps: { record: RecordEvents; queued: () => void }): StreamPurpose[] {
  return WEBHOOK_SOURCES.map((source) => ({
    ...source,
    handler: {
      decode(event): Decoded<WebhookEvent> {
        const webhook = webhookEventOf(event);
        return webhook === undefined ? { ignore: true } : { events: [{ id: event.id, message: webhook }] };
      },
      async handle(events, tx) {
        const queued = await deps.record(
          tx,
          events.map((e) => ({ id: e.id, event: e.message })),
        );
        return queued === 0 ? undefined : async () => deps.queued();
      },
      size: 100,
    } satisfies BatchHandler<WebhookEvent>,
  }));
}
