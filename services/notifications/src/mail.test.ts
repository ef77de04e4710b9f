import { randomUUID } from "node:crypto";
import type { DescMessage, MessageInitShape } from "@bufbuild/protobuf";
import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { withTransaction } from "@fintech/db";
import type { BatchHandler, ConsumedEvent } from "@fintech/events";
import { ReviewDecidedSchema, TransactionScoredSchema } from "@fintech/proto/fintech/fraud/v1/events_pb.js";
import { Decision, ReviewDecision } from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import { UserDeletedSchema, UserRegisteredSchema } from "@fintech/proto/fintech/identity/v1/events_pb.js";
import { UserStatus } from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import { WebhookDisabledSchema } from "@fintech/proto/fintech/notifications/v1/events_pb.js";
import {
  TransactionEventSchema,
  TransactionStatus,
  TransactionType,
} from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import { waitFor } from "@fintech/testing";
import pino from "pino";
import { describe, expect } from "vitest";
import { mailBatchHandlers } from "./mail-events.js";
import { mailMetrics } from "./mail-metrics.js";
import type { NotificationsHarness } from "./test/harness.js";
import { notificationsTest } from "./test/harness.js";

const test = notificationsTest();

/** A user identity has told the service about, with their address. */
async function registered(n: NotificationsHarness): Promise<{ id: string; email: string }> {
  const id = randomUUID();
  const email = `u-${id.slice(0, 8)}@example.com`;
  await n.publish(
    "identity.user.registered",
    UserRegisteredSchema,
    { userId: id, email, status: UserStatus.ACTIVE, occurredAt: timestampFromDate(new Date()) },
    randomUUID(),
  );
  // Identity knows them too: a mail sent before the event is consumed (another stream) asks it.
  n.addresses.set(id, email);
  return { id, email };
}

/** Publishes a completed purchase of `amount` MYR at Kopi Corner; returns the event id. */
async function purchase(n: NotificationsHarness, userId: string, amount: string, eventId = randomUUID()) {
  await n.publish(
    "wallet.transaction.completed",
    TransactionEventSchema,
    {
      transactionId: randomUUID(),
      userId,
      walletId: randomUUID(),
      type: TransactionType.PURCHASE,
      status: TransactionStatus.COMPLETED,
      amount: { currency: "MYR", amount },
      merchantName: "Kopi Corner",
      merchantCategory: "food_beverage",
      occurredAt: timestampFromDate(new Date("2030-01-01T08:00:00Z")),
    },
    eventId,
  );
  return eventId;
}

/** Publishes a payment held for review (fraud's decision review); returns the transaction id. */
async function held(n: NotificationsHarness, userId: string, amount: string): Promise<string> {
  const transactionId = randomUUID();
  await n.publish(
    "fraud.transaction.scored",
    TransactionScoredSchema,
    {
      transactionId,
      userId,
      score: 75,
      decision: Decision.REVIEW,
      ruleDecision: Decision.REVIEW,
      baseAmount: { currency: "MYR", amount },
      scoredAt: timestampFromDate(new Date("2030-01-01T08:00:00Z")),
    },
    randomUUID(),
  );
  return transactionId;
}

const messageIdOf = (eventId: string, template: string) => `<${eventId}.${template}@notifications.fintech>`;

/** An event as a consumer receives it, before decoding. */
function arrived<Desc extends DescMessage>(
  type: string,
  schema: Desc,
  message: MessageInitShape<Desc>,
): ConsumedEvent<Uint8Array> {
  return {
    id: randomUUID(),
    type,
    source: type.split(".")[0] ?? "",
    time: new Date(),
    trace: undefined,
    message: toBinary(schema, create(schema, message)),
  };
}

/** Decodes events as a batch consumer does on arrival and handles them as one batch, in one transaction. */
async function handleBatch<M>(
  n: NotificationsHarness,
  handler: BatchHandler<M>,
  events: ConsumedEvent<Uint8Array>[],
) {
  const decoded = events.flatMap((e) => {
    const d = handler.decode(e);
    return "events" in d ? d.events.map((x) => ({ ...e, id: x.id, message: x.message })) : [];
  });
  await withTransaction(n.pool, (tx) => handler.handle(decoded, tx));
}

const completedPurchase = (userId: string, amount: string) =>
  arrived("wallet.transaction.completed", TransactionEventSchema, {
    transactionId: randomUUID(),
    userId,
    type: TransactionType.PURCHASE,
    status: TransactionStatus.COMPLETED,
    amount: { currency: "MYR", amount },
    merchantName: "Kopi Corner",
  });

describe("e-mail receipts", () => {
  test("a completed purchase is mailed to the user with its amount and merchant, in text and HTML", async ({
    notifications: n,
  }) => {
    const ana = await registered(n);
    await purchase(n, ana.id, "1234.50");
    const mail = await n.inbox.waitForMail((m) => m.rcptTo.includes(ana.email));
    expect(mail.to).toEqual([ana.email]);
    expect(mail.from).toContain("no-reply@wallet.localhost");
    expect(mail.subject).toBe("Payment receipt: MYR 1,234.50 paid to Kopi Corner");
    expect(mail.text).toContain("MYR 1,234.50 paid to Kopi Corner.");
    expect(mail.html).toContain("MYR 1,234.50");
    expect(mail.html).toContain("Kopi Corner");
  });

  test("an event delivered twice is mailed once", async ({ notifications: n }) => {
    const bo = await registered(n);
    const eventId = await purchase(n, bo.id, "10.00");
    await purchase(n, bo.id, "10.00", eventId);
    // Events are handled in stream order: once a later one is queued, the repeat was handled too.
    const marker = await purchase(n, bo.id, "99.00");
    await waitFor(async () => {
      const { rows } = await n.pool.query<{ pending: number; all: number }>(
        "SELECT count(*) FILTER (WHERE status = 'pending')::int AS pending, count(*)::int AS all FROM mail_queue WHERE user_id = $1",
        [bo.id],
      );
      const [row] = rows;
      return row !== undefined && row.all >= 2 && row.pending === 0;
    });
    expect(n.inbox.mails.filter((m) => m.messageId === messageIdOf(eventId, "transaction"))).toHaveLength(1);
    expect(n.inbox.mails.filter((m) => m.messageId === messageIdOf(marker, "transaction"))).toHaveLength(1);
    expect(n.inbox.mailsTo(bo.email)).toHaveLength(2);
  });

  test("a user who switched receipts off gets none, and still gets review notices", async ({
    notifications: n,
  }) => {
    const cy = await registered(n);
    const me = n.preferencesAs(cy.id);
    expect((await me.getNotificationPreferences({})).preferences).toMatchObject({
      receipts: true,
      reviews: true,
    });
    const { preferences } = await me.updateNotificationPreferences({ receipts: false });
    expect(preferences).toMatchObject({ receipts: false, reviews: true });
    expect(preferences?.updatedAt).toBeDefined();
    expect((await me.getNotificationPreferences({})).preferences).toMatchObject({
      receipts: false,
      reviews: true,
    });

    const purchaseEvent = await purchase(n, cy.id, "12.00");
    await held(n, cy.id, "5000.00");
    // The wallet's and fraud's streams are consumed apart: wait until the purchase was handled too.
    await waitFor(async () => {
      const { rows } = await n.pool.query("SELECT 1 FROM inbox WHERE consumer = $1 AND event_id = $2", [
        "notifications-mail-wallet",
        purchaseEvent,
      ]);
      return rows.length > 0 && n.inbox.mailsTo(cy.email).length > 0;
    });
    const mails = n.inbox.mailsTo(cy.email);
    expect(mails.map((m) => m.subject)).toEqual(["Payment held for review: MYR 5,000.00"]);
  });

  test("review notices: held, then approved", async ({ notifications: n }) => {
    const di = await registered(n);
    const transactionId = await held(n, di.id, "2500.00");
    // An analyst decides after the hold was announced; mails in flight together come in either order.
    await waitFor(() => n.inbox.mailsTo(di.email).length === 1);
    await n.publish(
      "fraud.review.decided",
      ReviewDecidedSchema,
      {
        transactionId,
        userId: di.id,
        decision: ReviewDecision.APPROVE,
        analystId: randomUUID(),
        decidedAt: timestampFromDate(new Date("2030-01-01T09:00:00Z")),
      },
      randomUUID(),
    );
    await waitFor(() => n.inbox.mailsTo(di.email).length === 2);
    const [first, second] = n.inbox.mailsTo(di.email);
    expect(first?.subject).toBe("Payment held for review: MYR 2,500.00");
    expect(first?.text).toContain(transactionId);
    expect(second?.subject).toBe("Payment approved after review");
    expect(second?.text).toContain(transactionId);
  });

  test("a review notice names the payment's own amount and merchant once the wallet told them", async ({
    notifications: n,
  }) => {
    const kay = await registered(n);
    const transactionId = randomUUID();
    await n.publish(
      "wallet.transaction.created",
      TransactionEventSchema,
      {
        transactionId,
        userId: kay.id,
        type: TransactionType.PURCHASE,
        status: TransactionStatus.PENDING,
        amount: { currency: "SGD", amount: "1200.00" },
        merchantName: "Orchard Watches",
      },
      randomUUID(),
    );
    await waitFor(
      async () =>
        (await n.pool.query("SELECT 1 FROM mail_transactions WHERE transaction_id = $1", [transactionId]))
          .rows.length > 0,
    );
    await n.publish(
      "fraud.transaction.scored",
      TransactionScoredSchema,
      {
        transactionId,
        userId: kay.id,
        score: 80,
        decision: Decision.REVIEW,
        baseAmount: { currency: "MYR", amount: "4200.00" },
        scoredAt: timestampFromDate(new Date("2030-01-01T08:00:00Z")),
      },
      randomUUID(),
    );
    const mail = await n.inbox.waitForMail((m) => m.rcptTo.includes(kay.email));
    expect(mail.subject).toBe("Payment held for review: SGD 1,200.00 to Orchard Watches");
    expect(mail.text).toContain("Orchard Watches");
    expect(mail.text).not.toContain("MYR");
  });

  test("a mail server that refuses for a while gets the mail after the backoff, once", async ({
    notifications: n,
  }) => {
    const ed = await registered(n);
    const counted = async (outcome: string) =>
      (await mailMetrics().mails.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
    const retriedBefore = await counted("retried");
    n.inbox.refuseNext(2);
    const eventId = await purchase(n, ed.id, "7.25");
    const row = async () =>
      (
        await n.pool.query<{ status: string; attempts: number }>(
          "SELECT status, attempts FROM mail_queue WHERE event_id = $1",
          [eventId],
        )
      ).rows[0];
    await waitFor(async () => (await row())?.attempts === 1);
    expect(n.inbox.mailsTo(ed.email)).toHaveLength(0);
    // The retry is due 30 s (MAIL_RETRY_MS) after the failure, then 60 s after the next one.
    n.clock.advance(30_000);
    await waitFor(async () => (await row())?.attempts === 2);
    expect(n.inbox.mailsTo(ed.email)).toHaveLength(0);
    n.clock.advance(59_000);
    expect(await row()).toMatchObject({ status: "pending", attempts: 2 });
    n.clock.advance(1_000);
    const mail = await n.inbox.waitForMail((m) => m.rcptTo.includes(ed.email));
    expect(mail.subject).toContain("MYR 7.25");
    await waitFor(async () => (await row())?.status === "sent");
    expect(n.inbox.mailsTo(ed.email)).toHaveLength(1);
    // Operators see the refusals in notifications_mails_total{outcome="retried"}.
    expect((await counted("retried")) - retriedBefore).toBe(2);
  });

  test("an address identity's events have not brought yet is asked of identity; a deleted user gets no mail", async ({
    notifications: n,
  }) => {
    const fay = { id: randomUUID(), email: "fay@example.com" };
    n.addresses.set(fay.id, fay.email);
    await purchase(n, fay.id, "3.00");
    await n.inbox.waitForMail((m) => m.rcptTo.includes(fay.email));

    const gus = await registered(n);
    await n.publish(
      "identity.user.deleted",
      UserDeletedSchema,
      {
        userId: gus.id,
        email: gus.email,
        status: UserStatus.DELETED,
        occurredAt: timestampFromDate(new Date()),
      },
      randomUUID(),
    );
    await waitFor(
      async () =>
        (await n.pool.query("SELECT 1 FROM mail_recipients WHERE user_id = $1 AND deleted", [gus.id])).rows
          .length > 0,
    );
    const eventId = await purchase(n, gus.id, "4.00");
    await waitFor(async () => {
      const { rows } = await n.pool.query<{ status: string }>(
        "SELECT status FROM mail_queue WHERE event_id = $1",
        [eventId],
      );
      return rows[0]?.status === "skipped";
    });
    expect(n.inbox.mailsTo(gus.email)).toHaveLength(0);
  });

  test("the owner of a webhook endpoint switched off for failing is told, whatever their switches", async ({
    notifications: n,
  }) => {
    const hal = await registered(n);
    await n.preferencesAs(hal.id).updateNotificationPreferences({ receipts: false, reviews: false });
    const webhookId = randomUUID();
    await n.publish(
      "notifications.webhook.disabled",
      WebhookDisabledSchema,
      {
        webhookId,
        userId: hal.id,
        url: "https://hooks.example.com/in",
        failingSince: timestampFromDate(new Date("2030-01-01T00:00:00Z")),
        disabledAt: timestampFromDate(new Date("2030-01-04T00:00:00Z")),
      },
      randomUUID(),
    );
    const mail = await n.inbox.waitForMail((m) => m.rcptTo.includes(hal.email));
    expect(mail.subject).toBe("Webhook endpoint disabled");
    expect(mail.text).toContain("https://hooks.example.com/in");
    expect(mail.text).toContain(webhookId);
  });

  test("a mail that cannot be written is given up and holds no other back", async ({ notifications: n }) => {
    const ivy = await registered(n);
    // JPY has no minor units: "1.5" JPY is refused by libs/money.
    const bad = randomUUID();
    await n.publish(
      "wallet.transaction.completed",
      TransactionEventSchema,
      {
        transactionId: randomUUID(),
        userId: ivy.id,
        type: TransactionType.PURCHASE,
        status: TransactionStatus.COMPLETED,
        amount: { currency: "JPY", amount: "1.5" },
        merchantName: "Sushi",
      },
      bad,
    );
    const good = await purchase(n, ivy.id, "8.00");
    await n.inbox.waitForMail((m) => m.messageId === messageIdOf(good, "transaction"));
    await waitFor(async () => {
      const { rows } = await n.pool.query<{ status: string }>(
        "SELECT status FROM mail_queue WHERE event_id = $1",
        [bad],
      );
      return rows[0]?.status === "failed";
    });
    expect(n.inbox.mailsTo(ivy.email)).toHaveLength(1);
  });

  test("finished mails are deleted after MAIL_RETENTION_DAYS, pending ones are kept", async ({
    notifications: n,
  }) => {
    const jo = await registered(n);
    const sent = await purchase(n, jo.id, "1.00");
    await n.inbox.waitForMail((m) => m.messageId === messageIdOf(sent, "transaction"));
    n.inbox.refuseNext(1_000);
    const waiting = await purchase(n, jo.id, "2.00");
    const statusOf = async (eventId: string) =>
      (await n.pool.query<{ status: string }>("SELECT status FROM mail_queue WHERE event_id = $1", [eventId]))
        .rows[0]?.status;
    await waitFor(async () => (await statusOf(sent)) === "sent");
    await waitFor(async () => {
      const { rows } = await n.pool.query<{ attempts: number }>(
        "SELECT attempts FROM mail_queue WHERE event_id = $1",
        [waiting],
      );
      return (rows[0]?.attempts ?? 0) > 0;
    });
    try {
      n.clock.advance(29 * 86_400_000);
      expect(await n.app.mailPruner.runOnce()).toBe(true);
      expect(await statusOf(sent)).toBe("sent");
      n.clock.advance(2 * 86_400_000);
      expect(await n.app.mailPruner.runOnce()).toBe(true);
      expect(await statusOf(sent)).toBeUndefined();
      expect(await statusOf(waiting)).toBe("pending");
    } finally {
      n.inbox.refuseNext(0);
    }
  });
});

describe("mail consumers in batches", () => {
  test("a batch of several users' events queues each mail once, and none of the kind a user switched off", async ({
    notifications: n,
  }) => {
    const [ana, bo, cy] = [await registered(n), await registered(n), await registered(n)];
    await n.preferencesAs(bo.id).updateNotificationPreferences({ receipts: false });
    const handlers = mailBatchHandlers({ logger: pino({ level: "silent" }), clock: n.clock });
    const heldId = randomUUID();
    const walletBatch = [
      completedPurchase(ana.id, "1.00"),
      completedPurchase(bo.id, "2.00"),
      arrived("wallet.transaction.created", TransactionEventSchema, {
        transactionId: heldId,
        userId: bo.id,
        type: TransactionType.PURCHASE,
        status: TransactionStatus.PENDING,
        amount: { currency: "SGD", amount: "900.00" },
        merchantName: "Orchard Watches",
      }),
      completedPurchase(cy.id, "3.00"),
      completedPurchase(ana.id, "4.00"),
      completedPurchase(bo.id, "5.00"),
    ];
    await handleBatch(n, handlers.wallet, walletBatch);
    // Bo switched receipts off, not review notices: his hold is mailed, with the payment's facts the batch kept.
    await handleBatch(n, handlers.fraud, [
      arrived("fraud.transaction.scored", TransactionScoredSchema, {
        transactionId: heldId,
        userId: bo.id,
        score: 80,
        decision: Decision.REVIEW,
        baseAmount: { currency: "MYR", amount: "3000.00" },
      }),
    ]);
    const queued = async () =>
      (
        await n.pool.query<{ event_id: string; user_id: string }>(
          "SELECT event_id, user_id FROM mail_queue WHERE user_id = ANY ($1) ORDER BY id",
          [[ana.id, bo.id, cy.id]],
        )
      ).rows;
    const receipts = walletBatch.filter((_, i) => [0, 3, 4].includes(i)).map((e) => e.id);
    expect((await queued()).map((r) => r.event_id).slice(0, 3)).toEqual(receipts);
    expect((await queued()).filter((r) => r.user_id === bo.id)).toHaveLength(1);

    await waitFor(
      () =>
        n.inbox.mailsTo(ana.email).length === 2 &&
        n.inbox.mailsTo(cy.email).length === 1 &&
        n.inbox.mailsTo(bo.email).length === 1,
    );
    expect(
      n.inbox
        .mailsTo(ana.email)
        .map((m) => m.subject)
        .sort(),
    ).toEqual([
      "Payment receipt: MYR 1.00 paid to Kopi Corner",
      "Payment receipt: MYR 4.00 paid to Kopi Corner",
    ]);
    expect(n.inbox.mailsTo(cy.email).map((m) => m.subject)).toEqual([
      "Payment receipt: MYR 3.00 paid to Kopi Corner",
    ]);
    expect(n.inbox.mailsTo(bo.email).map((m) => m.subject)).toEqual([
      "Payment held for review: SGD 900.00 to Orchard Watches",
    ]);

    // The same batch again (redelivered past the inbox) queues nothing more.
    await handleBatch(n, handlers.wallet, walletBatch);
    expect(await queued()).toHaveLength(4);
  });
});
