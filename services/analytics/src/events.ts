import { fromBinary } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { ConsumedEvent, Decoded } from "@fintech/events";
import { ImportedRowsSchema } from "@fintech/proto/fintech/analytics/v1/events_pb.js";
import { ReviewDecidedSchema, TransactionScoredSchema } from "@fintech/proto/fintech/fraud/v1/events_pb.js";
import { TransactionEventSchema } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import type { AnalyticsEvent } from "./aggregator.js";
import { IMPORT_ROWS_TYPE, IMPORT_SUBJECTS } from "./import-publisher.js";
import { checkTransaction, transactionEventTime } from "./projections.js";

/** The event streams analytics consumes: one durable consumer each (also the inbox's consumer names). */
export const CONSUMED = [
  { context: "wallet", durable: "analytics-wallet", filterSubject: "wallet.transaction.>" },
  { context: "analytics", durable: "analytics-imports", filterSubject: IMPORT_SUBJECTS },
  { context: "fraud", durable: "analytics-fraud", filterSubject: "fraud.>" },
] as const;

/** Event types that count a transaction (+1) or take it back out (-1). Other wallet events count nothing. */
const TRANSACTION_SIGNS: Record<string, 1n | -1n> = {
  "wallet.transaction.completed": 1n,
  "wallet.transaction.reversed": -1n,
};

/**
 * Decodes a consumed message into the events to count (imported rows come several to a message), or says to
 * ignore it (types analytics does not count: wallet.transaction.created, .failed, .refunded and others) or to
 * terminate it (a payload that does not decode or a transaction that cannot be counted: redelivery would not
 * change it). A bad row inside an import message is logged by `onBadRow` and skipped; the others count.
 */
export function eventDecoder(baseCurrency: string, onBadRow: (eventId: string, reason: string) => void) {
  const one = (event: AnalyticsEvent): Decoded<AnalyticsEvent> => ({
    events: [{ id: event.id, message: event }],
  });
  return ({ id, type, message: data }: ConsumedEvent<Uint8Array>): Decoded<AnalyticsEvent> => {
    const sign = TRANSACTION_SIGNS[type];
    if (sign !== undefined) {
      const message = fromBinary(TransactionEventSchema, data);
      const checked = checkTransaction(message, baseCurrency);
      if (!checked.ok) return { poison: checked.reason };
      const { currency, amount, base } = checked;
      return one({
        kind: "transaction",
        id,
        sign,
        message,
        amounts: { currency, amount, base },
        eventTime: transactionEventTime(message),
      });
    }
    if (type === IMPORT_ROWS_TYPE) {
      const { rows } = fromBinary(ImportedRowsSchema, data);
      const events: Array<{ id: string; message: AnalyticsEvent }> = [];
      for (const row of rows) {
        const message = row.transaction;
        const checked = message === undefined ? undefined : checkTransaction(message, baseCurrency);
        if (message === undefined || checked === undefined || !checked.ok || row.eventId === "") {
          onBadRow(
            row.eventId,
            checked !== undefined && !checked.ok ? checked.reason : "no transaction or id",
          );
          continue;
        }
        const { currency, amount, base } = checked;
        events.push({
          id: row.eventId,
          message: {
            kind: "transaction",
            id: row.eventId,
            sign: 1n,
            imported: true,
            message,
            amounts: { currency, amount, base },
            eventTime: transactionEventTime(message),
          },
        });
      }
      return { events };
    }
    if (type === "fraud.transaction.scored") {
      const message = fromBinary(TransactionScoredSchema, data);
      const ts = message.scoredAt ?? message.occurredAt;
      if (ts === undefined) return { poison: "no scored_at" };
      return one({ kind: "score", id, message, eventTime: timestampMs(ts) });
    }
    if (type === "fraud.review.decided") {
      const message = fromBinary(ReviewDecidedSchema, data);
      if (message.decidedAt === undefined) return { poison: "no decided_at" };
      return one({ kind: "review", id, message, eventTime: timestampMs(message.decidedAt) });
    }
    return { ignore: true };
  };
}
