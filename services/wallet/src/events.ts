import type { JsonObject } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { AuditOrigin } from "@fintech/auth";
import { auditEvent } from "@fintech/auth";
import type { Queryable } from "@fintech/db";
import type { OutboxRow } from "@fintech/events";
import { enqueue, newEventId, outboxRow } from "@fintech/events";
import { formatAmount } from "@fintech/money";
import type { TransactionEvent } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import {
  TransactionEventSchema,
  TransactionStatus,
  TransactionType,
  WalletCreatedSchema,
} from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import type { TransactionStatus as Status, Transaction, TransactionType as Type, Wallet } from "./model.js";

// What the wallet publishes (through the outbox, in the transaction that makes the change):
// - wallet.created (WalletCreated) when a wallet opens;
// - wallet.transaction.created | completed | failed | reversed for every transaction's state change, the
//   payload the transaction as it is after the change; a transfer publishes each side (direction outgoing
//   for the sender, incoming for the receiver). Every completion is published, including transactions
//   completed as they are created (top-ups, refunds): analytics counts completions;
// - wallet.transaction.refunded for a purchase whose refunded_amount changed;
// - wallet.audit.recorded (fintech.audit.v1.AuditEntry) for every money movement a caller asks for: the
//   transaction it created as it was recorded, or the reversal of one.

export const TYPE_TO_PROTO: Record<Type, TransactionType> = {
  top_up: TransactionType.TOP_UP,
  withdrawal: TransactionType.WITHDRAWAL,
  purchase: TransactionType.PURCHASE,
  transfer: TransactionType.TRANSFER,
  conversion: TransactionType.CONVERSION,
  refund: TransactionType.REFUND,
};

export const STATUS_TO_PROTO: Record<Status, TransactionStatus> = {
  pending: TransactionStatus.PENDING,
  completed: TransactionStatus.COMPLETED,
  failed: TransactionStatus.FAILED,
  reversed: TransactionStatus.REVERSED,
};

export type TransactionEventType = "created" | "completed" | "failed" | "reversed" | "refunded";

/** The event payload of a transaction as it is now; `occurredAt` is when this change happened. */
export function transactionEvent(t: Transaction, occurredAt: Date): TransactionEvent {
  return create(TransactionEventSchema, {
    transactionId: t.id,
    userId: t.userId,
    walletId: t.walletId,
    type: TYPE_TO_PROTO[t.type],
    status: STATUS_TO_PROTO[t.status],
    amount: { currency: t.currency, amount: formatAmount(t.amount, t.currency) },
    baseAmount: { currency: t.baseCurrency, amount: formatAmount(t.baseAmount, t.baseCurrency) },
    merchantName: t.merchantName,
    merchantCategory: t.merchantCategory,
    provider: t.source,
    counterpartyUserId: t.counterpartyUserId ?? "",
    originalTransactionId: t.originalTransactionId ?? "",
    refundedAmount:
      t.type === "purchase"
        ? { currency: t.currency, amount: formatAmount(t.refundedAmount, t.currency) }
        : undefined,
    timezone: t.timezone,
    fraudScore: t.fraudScore,
    fraudFlags: t.fraudFlags,
    direction: t.direction,
    createdAt: timestampFromDate(t.createdAt),
    occurredAt: timestampFromDate(occurredAt),
  });
}

/** Writes `wallet.transaction.<type>` for each row into the outbox of the open transaction `db`. */
export async function publishTransactions(
  db: Queryable,
  type: TransactionEventType,
  rows: readonly Transaction[],
  occurredAt: Date,
): Promise<void> {
  for (const t of rows) {
    await enqueue(db, {
      type: `wallet.transaction.${type}`,
      schema: TransactionEventSchema,
      message: transactionEvent(t, occurredAt),
    });
  }
}

/** Writes wallet.created into the outbox of the open transaction `db`. */
export async function publishWalletCreated(db: Queryable, w: Wallet): Promise<void> {
  await enqueue(db, {
    type: "wallet.created",
    schema: WalletCreatedSchema,
    message: create(WalletCreatedSchema, {
      walletId: w.id,
      userId: w.userId,
      currency: w.currency,
      isDefault: w.isDefault,
      createdAt: timestampFromDate(w.createdAt),
    }),
  });
}

/**
 * The outbox rows of `wallet.transaction.<type>` for each row, for statements that write the change and its
 * events at once (store.record, store.transitionMany): what enqueue would insert, built here so that the
 * event rides in the same round trip as the change.
 */
export function transactionOutboxRows(
  type: TransactionEventType,
  rows: readonly Transaction[],
  occurredAt: Date,
): OutboxRow[] {
  return rows.map((t) =>
    outboxRow({
      id: newEventId(occurredAt.getTime()),
      type: `wallet.transaction.${type}`,
      schema: TransactionEventSchema,
      message: transactionEvent(t, occurredAt),
    }),
  );
}

/** What the audit trail keeps of a transaction: what moved, between whom, and its state. */
export function auditedTransaction(t: Transaction): JsonObject {
  return {
    type: t.type,
    status: t.status,
    user_id: t.userId,
    wallet_id: t.walletId,
    amount: formatAmount(t.amount, t.currency),
    currency: t.currency,
    ...(t.counterpartyUserId === null ? {} : { counterparty_user_id: t.counterpartyUserId }),
    ...(t.toWalletId === null ? {} : { to_wallet_id: t.toWalletId }),
    ...(t.originalTransactionId === null ? {} : { original_transaction_id: t.originalTransactionId }),
    ...(t.merchantName === "" ? {} : { merchant_name: t.merchantName }),
    ...(t.source === "" ? {} : { provider: t.source }),
    ...(t.reason === "" ? {} : { reason: t.reason }),
  };
}

/** The audit entry of a movement that created `t`, as the outbox row that rides in its recording statement. */
export function creationAuditRow(origin: AuditOrigin, t: Transaction): OutboxRow {
  return outboxRow({
    ...auditEvent(origin, {
      subjectType: "transaction",
      subjectId: t.id,
      after: auditedTransaction(t),
      occurredAt: t.createdAt,
    }),
    id: newEventId(t.createdAt.getTime()),
  });
}
