import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { formatAmount } from "@fintech/money";
import type {
  Balance as BalanceMessage,
  Transaction as TransactionMessage,
  Wallet as WalletMessage,
} from "@fintech/proto/fintech/wallet/v1/wallet_pb.js";
import {
  BalanceSchema,
  TransactionSchema,
  WalletSchema,
  WalletStatus,
} from "@fintech/proto/fintech/wallet/v1/wallet_pb.js";
import { STATUS_TO_PROTO, TYPE_TO_PROTO } from "./events.js";
import type { Balance, Transaction, WalletView } from "./model.js";

// Domain values as the API's messages: bigint minor units become decimal strings in their currency.

export function balanceMessage(b: Balance, currency: string): BalanceMessage {
  return create(BalanceSchema, {
    available: formatAmount(b.available, currency),
    pending: formatAmount(b.pending, currency),
    posted: formatAmount(b.posted, currency),
    incoming: formatAmount(b.incoming, currency),
  });
}

export function walletMessage(v: WalletView): WalletMessage {
  const w = v.wallet;
  return create(WalletSchema, {
    id: w.id,
    userId: w.userId,
    currency: w.currency,
    status: w.status === "active" ? WalletStatus.ACTIVE : WalletStatus.CLOSED,
    balance: balanceMessage(v.balance, w.currency),
    isDefault: w.isDefault,
    createdAt: timestampFromDate(w.createdAt),
  });
}

const money = (amount: bigint | null, currency: string | null) =>
  amount === null || currency === null ? "" : formatAmount(amount, currency);

export function transactionMessage(t: Transaction): TransactionMessage {
  return create(TransactionSchema, {
    transactionId: t.id,
    userId: t.userId,
    walletId: t.walletId,
    amount: formatAmount(t.amount, t.currency),
    currency: t.currency,
    merchantName: t.merchantName,
    merchantCategory: t.merchantCategory,
    transactionType: TYPE_TO_PROTO[t.type],
    status: STATUS_TO_PROTO[t.status],
    fraudScore: t.fraudScore,
    fraudFlags: t.fraudFlags,
    originalTransactionId: t.originalTransactionId ?? "",
    refundedAmount: formatAmount(t.refundedAmount, t.currency),
    createdAt: timestampFromDate(t.createdAt),
    updatedAt: timestampFromDate(t.updatedAt),
    description: t.description,
    tags: t.tags,
    chargedAmount: formatAmount(t.chargedAmount, t.chargedCurrency),
    chargedCurrency: t.chargedCurrency,
    rate: t.rate,
    toWalletId: t.toWalletId ?? "",
    toAmount: money(t.toAmount, t.toCurrency),
    toCurrency: t.toCurrency ?? "",
    counterpartyUserId: t.counterpartyUserId ?? "",
    direction: t.direction,
    relatedTransactionId: t.relatedTransactionId ?? "",
    source: t.source,
    failureReason: t.failureReason,
    fraudDecision: t.fraudDecision,
    reason: t.reason,
    quoteId: t.quoteId ?? "",
    spreadAmount: money(t.spreadAmount, t.toCurrency),
    baseAmount: formatAmount(t.baseAmount, t.baseCurrency),
    baseCurrency: t.baseCurrency,
  });
}
