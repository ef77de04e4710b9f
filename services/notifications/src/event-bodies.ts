import type { JsonObject } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { restJson } from "@fintech/platform";
import type { ReviewDecided, TransactionScored } from "@fintech/proto/fintech/fraud/v1/events_pb.js";
import type { Review } from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import {
  Decision,
  ReviewDecision,
  ReviewSchema,
  ReviewStatus,
} from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import type { UserStatusChanged } from "@fintech/proto/fintech/identity/v1/events_pb.js";
import { UserSchema } from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import type { TransactionEvent, WalletCreated } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import { TransactionSchema, WalletSchema, WalletStatus } from "@fintech/proto/fintech/wallet/v1/wallet_pb.js";
import type { WebhookEventType } from "./model.js";

/** One event as webhooks carry it: its type, whose it is, when it happened and its object in REST JSON. */
export interface WebhookEvent {
  type: WebhookEventType;
  /** The user it belongs to (their endpoints and the platform-wide ones receive it); undefined for none. */
  userId: string | undefined;
  occurredAt: Date;
  data: JsonObject;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const userOf = (id: string) => (UUID.test(id) ? id.toLowerCase() : undefined);
const timeOf = (t: Timestamp | undefined, fallback: Date) => (t === undefined ? fallback : timestampDate(t));

/**
 * A wallet.transaction.<change> event as transaction.<change>, its data the transaction as `GET
 * /transactions/{id}` shows it, as far as the event carries it (its annotations, such as description and tags,
 * are the wallet's alone), `updated_at` the time of this change.
 */
export function transactionEvent(
  type: WebhookEventType,
  m: TransactionEvent,
  fallbackTime: Date,
): WebhookEvent {
  const occurredAt = timeOf(m.occurredAt ?? m.createdAt, fallbackTime);
  const transaction = create(TransactionSchema, {
    transactionId: m.transactionId,
    userId: m.userId,
    walletId: m.walletId,
    amount: m.amount?.amount ?? "",
    currency: m.amount?.currency ?? "",
    merchantName: m.merchantName,
    merchantCategory: m.merchantCategory,
    transactionType: m.type,
    status: m.status,
    fraudScore: m.fraudScore,
    fraudFlags: m.fraudFlags,
    originalTransactionId: m.originalTransactionId,
    refundedAmount: m.refundedAmount?.amount ?? "",
    ...(m.createdAt === undefined ? {} : { createdAt: m.createdAt }),
    ...(m.occurredAt === undefined ? {} : { updatedAt: m.occurredAt }),
    counterpartyUserId: m.counterpartyUserId,
    direction: m.direction,
    source: m.provider,
    baseAmount: m.baseAmount?.amount ?? "",
    baseCurrency: m.baseAmount?.currency ?? "",
  });
  return { type, userId: userOf(m.userId), occurredAt, data: restJson(TransactionSchema, transaction) };
}

/** wallet.created as wallet.created, its data the wallet as `GET /wallets/{id}` shows it, less its balance. */
export function walletEvent(m: WalletCreated, fallbackTime: Date): WebhookEvent {
  const wallet = create(WalletSchema, {
    id: m.walletId,
    userId: m.userId,
    currency: m.currency,
    status: WalletStatus.ACTIVE,
    isDefault: m.isDefault,
    ...(m.createdAt === undefined ? {} : { createdAt: m.createdAt }),
  });
  return {
    type: "wallet.created",
    userId: userOf(m.userId),
    occurredAt: timeOf(m.createdAt, fallbackTime),
    data: restJson(WalletSchema, wallet),
  };
}

// A review as webhooks show it: the case's transaction, status and times. Its score, flags, rule version,
// analyst and note stay inside the platform: a user's endpoint would otherwise learn what the fraud rules look at.
const INTERNAL_REVIEW_FIELDS = ["score", "flags", "rule_version", "analyst_id", "note"];

function reviewJson(review: Review): JsonObject {
  const json = restJson(ReviewSchema, review);
  for (const field of INTERNAL_REVIEW_FIELDS) delete json[field];
  return json;
}

/**
 * fraud.transaction.scored as review.held when the payment was held for review (undefined otherwise), its data
 * the open review case in the shape of `GET /fraud/reviews`, less what stays inside.
 */
export function reviewHeldEvent(m: TransactionScored, fallbackTime: Date): WebhookEvent | undefined {
  if (m.decision !== Decision.REVIEW) return undefined;
  const review = create(ReviewSchema, {
    transactionId: m.transactionId,
    userId: m.userId,
    status: ReviewStatus.OPEN,
    ...(m.baseAmount === undefined ? {} : { baseAmount: m.baseAmount }),
    ...(m.occurredAt === undefined ? {} : { occurredAt: m.occurredAt }),
    ...(m.scoredAt === undefined ? {} : { createdAt: m.scoredAt }),
  });
  return {
    type: "review.held",
    userId: userOf(m.userId),
    occurredAt: timeOf(m.scoredAt, fallbackTime),
    data: reviewJson(review),
  };
}

/** fraud.review.decided as review.decided, its data the decided review case, less what stays inside. */
export function reviewDecidedEvent(m: ReviewDecided, fallbackTime: Date): WebhookEvent {
  const review = create(ReviewSchema, {
    transactionId: m.transactionId,
    userId: m.userId,
    status: m.decision === ReviewDecision.APPROVE ? ReviewStatus.APPROVED : ReviewStatus.REJECTED,
    decision: m.decision,
    ...(m.decidedAt === undefined ? {} : { decidedAt: m.decidedAt }),
  });
  return {
    type: "review.decided",
    userId: userOf(m.userId),
    occurredAt: timeOf(m.decidedAt, fallbackTime),
    data: reviewJson(review),
  };
}

/** identity.user.status_changed as user.status_changed, its data the user as `GET /users/me` shows them. */
export function userStatusEvent(m: UserStatusChanged, fallbackTime: Date): WebhookEvent {
  const user = create(UserSchema, {
    id: m.userId,
    email: m.email,
    status: m.status,
    timezone: m.timezone,
    defaultCurrency: m.defaultCurrency,
    roles: m.roles,
    ...(m.occurredAt === undefined ? {} : { updatedAt: m.occurredAt }),
  });
  return {
    type: "user.status_changed",
    userId: userOf(m.userId),
    occurredAt: timeOf(m.occurredAt, fallbackTime),
    data: restJson(UserSchema, user),
  };
}
