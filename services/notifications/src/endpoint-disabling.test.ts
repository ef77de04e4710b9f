import { randomUUID } from "node:crypto";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { WebhookDisabledSchema } from "@fintech/proto/fintech/notifications/v1/events_pb.js";
import { TransactionStatus, TransactionType } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import { publishedEvents, waitFor } from "@fintech/testing";
import { expect } from "vitest";
import { notificationsTest } from "./test/harness.js";
import { startReceiver } from "./test/receiver.js";

// A retry period of 1 hour rather than 3 days: the same rule, fewer attempts to walk through.
const test = notificationsTest({ WEBHOOK_RETRY_HOURS: "1" });

test("an endpoint that fails for the whole retry period is disabled, its delivery failed and its owner told", async ({
  notifications: n,
}) => {
  const receiver = await startReceiver(() => 500);
  try {
    const user = randomUUID();
    const owner = n.asUser(user);
    const { webhook } = await owner.createWebhook({ url: receiver.url, events: ["transaction.failed"] });
    const id = webhook?.id ?? "";
    await n.publishTransaction(
      "wallet.transaction.failed",
      {
        transactionId: randomUUID(),
        userId: user,
        type: TransactionType.WITHDRAWAL,
        status: TransactionStatus.FAILED,
        amount: { amount: "10.00", currency: "MYR" },
      },
      randomUUID(),
    );
    let attempts = 0;
    for (;;) {
      await waitFor(() => receiver.received.length > attempts, { timeoutMs: 15_000 });
      attempts = receiver.received.length;
      // Settled: the attempt is recorded, and the delivery either waits for its next one or has ended.
      await waitFor(async () => {
        const [d] = (await owner.listWebhookDeliveries({ id })).data;
        const recorded = (await owner.listWebhookDeliveryAttempts({ id, deliveryId: d?.id ?? "" })).data;
        return recorded.length === attempts;
      });
      const [delivery] = (await owner.listWebhookDeliveries({ id })).data;
      if (delivery?.status !== "pending") break;
      expect((await owner.getWebhook({ id })).webhook?.enabled).toBe(true);
      if (delivery.nextAttemptAt === undefined) throw new Error("a pending delivery has a next attempt");
      n.clock.set(timestampDate(delivery.nextAttemptAt));
      expect(attempts).toBeLessThan(20);
    }
    const [delivery] = (await owner.listWebhookDeliveries({ id })).data;
    expect(delivery).toMatchObject({ status: "failed", attempts, lastResponseCode: 500 });
    expect(attempts).toBeGreaterThan(4);
    expect((await owner.getWebhook({ id })).webhook).toMatchObject({
      enabled: false,
      disabledReason: "failing",
    });
    const disabled = await publishedEvents(
      n.nc,
      n.pool,
      n.namespace,
      "notifications.webhook.disabled",
      WebhookDisabledSchema,
    );
    expect(disabled).toHaveLength(1);

    // Enabled again by its owner, it receives new events.
    await owner.updateWebhook({ id, enabled: true });
    expect((await owner.getWebhook({ id })).webhook).toMatchObject({ enabled: true, disabledReason: "" });
  } finally {
    await receiver.close();
  }
});
