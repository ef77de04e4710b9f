import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { BatchHandler, ConsumedEvent, TypedEvent } from "@fintech/events";
import { decodeByType, eventHandler, handlersInBatches } from "@fintech/events";
import { parseAmount } from "@fintech/money";
import type { Clock } from "@fintech/platform";
import { ReviewDecidedSchema, TransactionScoredSchema } from "@fintech/proto/fintech/fraud/v1/events_pb.js";
import { Decision, ReviewDecision } from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import {
  UserDeletedSchema,
  UserProfileChangedSchema,
  UserRegisteredSchema,
  UserStatusChangedSchema,
} from "@fintech/proto/fintech/identity/v1/events_pb.js";
import { UserStatus } from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import { WebhookDisabledSchema } from "@fintech/proto/fintech/notifications/v1/events_pb.js";
import type { TransactionEvent } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import { TransactionEventSchema, TransactionType } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import type { PoolClient } from "pg";
import type { Logger } from "pino";
import type { StreamPurpose } from "./consumers.js";
import type { MailContent, TransactionFacts, TransactionKind } from "./mail-model.js";
import type { NewMail } from "./mail-store.js";
import { mailStore } from "./mail-store.js";

/** The inbox names (once each its own durable's) of what feeds e-mail: money movements, reviews, addresses. */
export const MAIL_CONSUMERS = {
  notifications: "notifications-mail-webhooks",
  wallet: "notifications-mail-wallet",
  fraud: "notifications-mail-fraud",
  identity: "notifications-mail-identity",
} as const;

const TRANSACTION_KINDS: Partial<Record<TransactionType, TransactionKind>> = {
  [TransactionType.TOP_UP]: "top_up",
  [TransactionType.WITHDRAWAL]: "withdrawal",
  [TransactionType.PURCHASE]: "purchase",
  [TransactionType.TRANSFER]: "transfer",
  [TransactionType.CONVERSION]: "conversion",
  [TransactionType.REFUND]: "refund",
};

// The types fraud scores, whose payments a review can hold.
const HELD_TYPES = new Set([TransactionType.PURCHASE, TransactionType.WITHDRAWAL, TransactionType.TRANSFER]);

const iso = (ts: Timestamp | undefined, fallback: Date) => (ts ? timestampDate(ts) : fallback).toISOString();

/** What one event asks of e-mail: a mail to its user, or what a payment's review notices will say. */
type MailWork =
  | { mail: { userId: string; content: MailContent } }
  | { payment: TransactionFacts & { transactionId: string } };

/** Reads the events of one type and says what each asks for, or undefined for nothing. */
interface MailPlanner<Desc extends DescMessage = DescMessage> {
  schema: Desc;
  // Method syntax on purpose: it lets a planner of one message type stand in a Record of planners of any type.
  plan(event: ConsumedEvent<MessageShape<Desc>>): MailWork | undefined;
}

/** A {@link MailPlanner} with `event.message` typed from `schema`. */
function planner<Desc extends DescMessage>(
  schema: Desc,
  plan: (event: ConsumedEvent<MessageShape<Desc>>) => MailWork | undefined,
): MailPlanner<Desc> {
  return { schema, plan };
}

/**
 * A batch consumer's handler over per-type planners. Each message is decoded with its type's schema on arrival
 * (a type without a planner is acknowledged unread, a payload that does not decode is terminated); a batch's
 * events are planned in stream order and written together, in the transaction that records them in the inbox:
 * the payments' facts in one statement, the mails in another that reads their users' switches too and leaves
 * out a mail whose kind its user switched off (they are read again at sending, for a switch made while it
 * waits).
 */
function mailBatches(
  planners: Record<string, MailPlanner>,
  clock: Clock,
): BatchHandler<TypedEvent<MailPlanner>> {
  return {
    decode: decodeByType(planners),
    async handle(events, tx) {
      const mails: NewMail[] = [];
      const payments: Array<TransactionFacts & { transactionId: string }> = [];
      for (const e of events) {
        const work = e.message.handler.plan({ ...e, message: e.message.message });
        if (work === undefined) continue;
        if ("payment" in work) {
          payments.push(work.payment);
        } else if (work.mail.userId !== "") {
          mails.push({ eventId: e.id, ...work.mail });
        }
      }
      const at = clock.now();
      await mailStore.putTransactions(tx, payments, at);
      await mailStore.enqueueAll(tx, mails, at);
      return undefined;
    },
    size: 100,
  };
}

function transactionMail(
  t: TransactionEvent,
  change: "completed" | "reversed",
  time: Date,
): MailContent | undefined {
  const type = TRANSACTION_KINDS[t.type];
  if (type === undefined || t.amount === undefined) return undefined;
  return {
    template: "transaction",
    change,
    transactionId: t.transactionId,
    type,
    direction: t.direction,
    amount: t.amount.amount,
    currency: t.amount.currency,
    merchantName: t.merchantName,
    provider: t.provider,
    occurredAt: iso(t.occurredAt, time),
  };
}

/**
 * The handlers of the batch consumers that queue mails and keep payments' facts, by consumer
 * ({@link MAIL_CONSUMERS}' keys); see {@link mailConsumers}.
 */
export function mailBatchHandlers(deps: { logger: Logger; clock: Clock }) {
  const { logger, clock } = deps;
  const onTransaction = (change: "completed" | "reversed") =>
    planner(TransactionEventSchema, (event) => {
      const content = transactionMail(event.message, change, event.time);
      if (content === undefined) {
        logger.warn(
          { event_id: event.id, type: event.type },
          "transaction event without type or amount; no mail",
        );
        return undefined;
      }
      return { mail: { userId: event.message.userId, content } };
    });
  return {
    notifications: mailBatches(
      {
        "notifications.webhook.disabled": planner(WebhookDisabledSchema, (event) => {
          const disabled = event.message;
          return {
            mail: {
              userId: disabled.userId,
              content: {
                template: "webhook_disabled",
                webhookId: disabled.webhookId,
                url: disabled.url,
                failingSince: disabled.failingSince ? timestampDate(disabled.failingSince).toISOString() : "",
                occurredAt: iso(disabled.disabledAt, event.time),
              },
            },
          };
        }),
      },
      clock,
    ),
    wallet: mailBatches(
      {
        "wallet.transaction.created": planner(TransactionEventSchema, (event) => {
          // Only payments fraud may hold (what a review notice is about) are kept, outgoing sides only.
          const t = event.message;
          if (!HELD_TYPES.has(t.type) || t.direction === "incoming" || t.amount === undefined)
            return undefined;
          let amountMinor: bigint;
          try {
            amountMinor = parseAmount(t.amount.amount, t.amount.currency);
          } catch {
            return undefined;
          }
          return {
            payment: {
              transactionId: t.transactionId,
              amountMinor,
              currency: t.amount.currency,
              merchantName: t.merchantName,
            },
          };
        }),
        "wallet.transaction.completed": onTransaction("completed"),
        "wallet.transaction.reversed": onTransaction("reversed"),
      },
      clock,
    ),
    fraud: mailBatches(
      {
        "fraud.transaction.scored": planner(TransactionScoredSchema, (event) => {
          const scored = event.message;
          // Only what the wallet was told to do holds money (in shadow mode the rules' decision does not).
          if (scored.decision !== Decision.REVIEW || scored.baseAmount === undefined) return undefined;
          return {
            mail: {
              userId: scored.userId,
              content: {
                template: "review_held",
                transactionId: scored.transactionId,
                amount: scored.baseAmount.amount,
                currency: scored.baseAmount.currency,
                occurredAt: iso(scored.scoredAt ?? scored.occurredAt, event.time),
              },
            },
          };
        }),
        "fraud.review.decided": planner(ReviewDecidedSchema, (event) => {
          const decided = event.message;
          const decision =
            decided.decision === ReviewDecision.APPROVE
              ? "approved"
              : decided.decision === ReviewDecision.REJECT
                ? "rejected"
                : undefined;
          if (decision === undefined) return undefined;
          return {
            mail: {
              userId: decided.userId,
              content: {
                template: "review_decided",
                transactionId: decided.transactionId,
                decision,
                occurredAt: iso(decided.decidedAt, event.time),
              },
            },
          };
        }),
      },
      clock,
    ),
  };
}

/**
 * The purposes that turn events into queued mails, one per stream, each through the inbox (a redelivered event
 * is handled once) and with the mail's own key (event id, template) besides, a batch of events at a time:
 * - wallet.transaction.created: a payment's own amount and merchant, for its review notices;
 * - wallet.transaction.completed and .reversed: a receipt for every completed money movement (a refund is the
 *   refund transaction's own completion; wallet.transaction.refunded, the purchase's new refunded total, would be
 *   a second mail about the same money and is left out), and one when an admin reverses one;
 * - fraud.transaction.scored with decision review: the payment is held; fraud.review.decided: the review's outcome;
 * - notifications.webhook.disabled: the owner of an endpoint switched off for failing (a platform-wide one has
 *   none, and no mail);
 * - identity.user.*: each user's address, kept here so that sending does not depend on identity being up.
 */
export function mailPurposes(deps: { logger: Logger; clock: Clock }): StreamPurpose[] {
  const batches = mailBatchHandlers(deps);
  const keep = async (
    tx: PoolClient,
    user: { userId: string; email: string; status: UserStatus; occurredAt?: Timestamp | undefined },
    time: Date,
    deleted: boolean,
  ) => {
    if (user.userId === "" || user.email === "") return;
    await mailStore.putRecipient(
      tx,
      user.userId,
      { email: user.email, deleted: deleted || user.status === UserStatus.DELETED },
      user.occurredAt ? timestampDate(user.occurredAt) : time,
    );
  };
  return [
    {
      context: "notifications",
      inbox: MAIL_CONSUMERS.notifications,
      subject: "notifications.webhook.disabled",
      handler: batches.notifications,
    },
    {
      context: "wallet",
      inbox: MAIL_CONSUMERS.wallet,
      subject: "wallet.transaction.>",
      handler: batches.wallet,
    },
    { context: "fraud", inbox: MAIL_CONSUMERS.fraud, subject: "fraud.>", handler: batches.fraud },
    {
      context: "identity",
      inbox: MAIL_CONSUMERS.identity,
      subject: "identity.user.>",
      handler: handlersInBatches(
        {
          "identity.user.registered": eventHandler(UserRegisteredSchema, (e, tx) =>
            keep(tx, e.message, e.time, false),
          ),
          "identity.user.profile_changed": eventHandler(UserProfileChangedSchema, (e, tx) =>
            keep(tx, e.message, e.time, false),
          ),
          "identity.user.status_changed": eventHandler(UserStatusChangedSchema, (e, tx) =>
            keep(tx, e.message, e.time, false),
          ),
          "identity.user.deleted": eventHandler(UserDeletedSchema, (e, tx) =>
            keep(tx, e.message, e.time, true),
          ),
        },
        { size: 100 },
      ),
    },
  ];
}
