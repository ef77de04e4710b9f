import { fromBinary } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { EventConsumer } from "@fintech/events";
import { createConsumer } from "@fintech/events";
import { isMoneyError, parseAmount } from "@fintech/money";
import type { TransactionEvent } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import { TransactionEventSchema } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import type { NatsConnection } from "@nats-io/transport-node";
import type pg from "pg";
import type { Logger } from "pino";
import type { FeatureStore, ObservedTransaction } from "./features.js";
import { signatureOf } from "./features.js";
import type { RuleBook } from "./rule-book.js";
import { longestWindowMs } from "./rules.js";

/** Durable consumer name (and inbox `consumer`) of the feature consumer. */
export const FEATURES_CONSUMER = "fraud-features";

/**
 * What the fraud service keeps from one wallet.transaction.created event, or undefined when the transaction
 * is not the user's doing (the receiving side of a transfer).
 */
export function observe(
  m: TransactionEvent,
  fallbackTime: Date,
  baseCurrency: string,
): ObservedTransaction | undefined {
  if (m.direction === "incoming") return undefined;
  const amount = minor(m.amount?.amount ?? "", m.amount?.currency ?? "");
  const base = m.baseAmount?.currency === baseCurrency ? minor(m.baseAmount.amount, baseCurrency) : undefined;
  const occurredAt = m.occurredAt ?? m.createdAt;
  return {
    transactionId: m.transactionId,
    userId: m.userId,
    occurredAt: occurredAt ? timestampDate(occurredAt) : fallbackTime,
    signature: signatureOf({
      type: m.type,
      currency: m.amount?.currency ?? "",
      amountMinor: amount ?? m.amount?.amount ?? "",
      merchant: m.merchantName,
    }),
    baseAmountMinor: base,
  };
}

function minor(amount: string, currency: string): bigint | undefined {
  try {
    return parseAmount(amount, currency);
  } catch (err) {
    if (!isMoneyError(err)) throw err;
    return undefined;
  }
}

/**
 * The feature consumer: every wallet.transaction.created, once (inbox), into the feature store, so that
 * scoring reads precomputed features and never another service's data. Events are recorded in batches: one
 * transaction, one statement and one Redis round trip for whatever has arrived, not one per payment.
 */
export function createFeatureConsumer(deps: {
  pool: pg.Pool;
  nc: NatsConnection;
  namespace: string;
  features: FeatureStore;
  rules: RuleBook;
  baseCurrency: string;
  logger: Logger;
}): EventConsumer {
  const { features, rules, baseCurrency, logger } = deps;
  return createConsumer<ObservedTransaction>({
    pool: deps.pool,
    nc: deps.nc,
    context: "wallet",
    durable: FEATURES_CONSUMER,
    filterSubject: "wallet.transaction.created",
    namespace: deps.namespace,
    logger,
    batch: {
      decode(event) {
        if (event.type !== "wallet.transaction.created") return { ignore: true };
        const t = observe(fromBinary(TransactionEventSchema, event.message), event.time, baseCurrency);
        if (!t) return { ignore: true };
        if (!t.transactionId || !t.userId) {
          logger.warn(
            { eventId: event.id },
            "wallet.transaction.created without transaction or user id; skipped",
          );
          return { ignore: true };
        }
        return { events: [{ id: event.id, message: t }] };
      },
      async handle(events, tx) {
        const { stored } = await rules.current();
        await features.record(
          tx,
          events.map((e) => e.message),
          longestWindowMs(stored.rules),
        );
        return undefined;
      },
    },
  });
}
