import { fromBinary } from "@bufbuild/protobuf";
import type { ConsumedEvent, Decoded, EventConsumer } from "@fintech/events";
import { createConsumer } from "@fintech/events";
import { ReviewDecidedSchema, TransactionScoredSchema } from "@fintech/proto/fintech/fraud/v1/events_pb.js";
import { UserStatusChangedSchema } from "@fintech/proto/fintech/identity/v1/events_pb.js";
import { TransactionEventSchema, WalletCreatedSchema } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import type { NatsConnection } from "@nats-io/transport-node";
import type pg from "pg";
import type { Logger } from "pino";
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

/** The streams webhooks come from: one durable consumer each (also the inbox's consumer names). */
export const WEBHOOK_SOURCES = [
  { context: "wallet", durable: "notifications-webhooks-wallet", filterSubject: "wallet.>" },
  { context: "fraud", durable: "notifications-webhooks-fraud", filterSubject: "fraud.>" },
  { context: "identity", durable: "notifications-webhooks-identity", filterSubject: "identity.user.>" },
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
 * The consumers that turn other services' events into webhook events: each event is kept once, under the id it
 * was published with (so a redelivered one is the same webhook), and queued for every endpoint that wants it,
 * in the transaction that records it in the inbox; a batch's events are kept and queued in one statement.
 * `queued` runs after a commit that queued deliveries, so the worker looks at once rather than at its next poll.
 */
export function createWebhookConsumers(deps: {
  pool: pg.Pool;
  nc: NatsConnection;
  namespace: string;
  logger: Logger;
  record: RecordEvents;
  queued: () => void;
  /** How long a batch waits for more events (libs/events' lingerMs). */
  lingerMs: number;
}): EventConsumer[] {
  return WEBHOOK_SOURCES.map((source) =>
    createConsumer<WebhookEvent>({
      pool: deps.pool,
      nc: deps.nc,
      context: source.context,
      durable: source.durable,
      filterSubject: source.filterSubject,
      namespace: deps.namespace,
      logger: deps.logger,
      waitForStream: true,
      batch: {
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
        lingerMs: deps.lingerMs,
      },
    }),
  );
}
