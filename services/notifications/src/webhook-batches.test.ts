import { randomUUID } from "node:crypto";
import { create, toBinary } from "@bufbuild/protobuf";
import { withTransaction } from "@fintech/db";
import { TransactionEventSchema } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import { waitFor } from "@fintech/testing";
import { describe, expect } from "vitest";
import type { WebhookEvent } from "./event-bodies.js";
import { webhookEventOf } from "./events.js";
import type { NotificationsHarness } from "./test/harness.js";
import { notificationsTest, purchaseOf } from "./test/harness.js";
import type { Receiver } from "./test/receiver.js";
import { startReceiver } from "./test/receiver.js";

// One delivery in flight per endpoint: a receiver gets its deliveries in the order they are claimed.
const test = notificationsTest({ WEBHOOK_ENDPOINT_CONCURRENCY: "1" });

/** A wallet event as the webhook consumers decode it: `wallet.transaction.<change>` of the user's. */
function consumed(change: string, userId: string): { id: string; event: WebhookEvent } {
  const id = randomUUID();
  const type = `wallet.transaction.${change}`;
  const event = webhookEventOf({
    id,
    type,
    source: "wallet",
    time: new Date(),
    trace: undefined,
    message: toBinary(TransactionEventSchema, create(TransactionEventSchema, purchaseOf(userId))),
  });
  if (event === undefined) throw new Error(`${type} carries no webhook`);
  return { id, event };
}

async function endpoint(n: NotificationsHarness, userId: string, receiver: Receiver, events: string[]) {
  const { webhook } = await n.asUser(userId).createWebhook({ url: receiver.url, events });
  return webhook?.id ?? "";
}

const ids = (r: Receiver) => r.received.map((x) => String(x.headers["webhook-id"]));

describe("webhook events recorded in batches", () => {
  test("a batch of several users' events is queued to exactly the endpoints that take them, each in the batch's order, and once", async ({
    notifications: n,
  }) => {
    const [both, failedOnly, theirs, wide, off] = await Promise.all(
      Array.from({ length: 5 }, () => startReceiver()),
    );
    if (!both || !failedOnly || !theirs || !wide || !off) throw new Error("no receivers");
    try {
      const ana = randomUUID();
      const bo = randomUUID();
      const cy = randomUUID();
      await endpoint(n, ana, both, ["transaction.completed", "transaction.failed"]);
      await endpoint(n, ana, failedOnly, ["transaction.failed"]);
      await endpoint(n, bo, theirs, ["transaction.completed"]);
      await n.asUser(randomUUID(), { admin: true }).createWebhook({
        url: wide.url,
        events: ["transaction.failed"],
        platformWide: true,
      });
      const switchedOff = await endpoint(n, ana, off, ["transaction.completed", "transaction.failed"]);
      await n.asUser(ana).updateWebhook({ id: switchedOff, enabled: false });

      // Interleaved: each endpoint's events are not next to each other in the batch.
      const users = [ana, bo, cy];
      const batch = Array.from({ length: 12 }, (_, i) =>
        consumed(i % 2 === 0 ? "completed" : "failed", users[i % 3] ?? ana),
      );
      const of = (user: string, types: string[]) =>
        batch.filter((e) => e.event.userId === user && types.includes(e.event.type)).map((e) => e.id);
      const expected = {
        both: of(ana, ["transaction.completed", "transaction.failed"]),
        failedOnly: of(ana, ["transaction.failed"]),
        theirs: of(bo, ["transaction.completed"]),
        wide: batch.filter((e) => e.event.type === "transaction.failed").map((e) => e.id),
      };
      const total = Object.values(expected).reduce((sum, list) => sum + list.length, 0);
      expect(expected.both.length).toBeGreaterThan(2);
      expect(expected.theirs.length).toBeGreaterThan(1);

      expect(await withTransaction(n.pool, (tx) => n.app.webhooks.record(tx, batch))).toBe(total);
      n.app.worker.wake();
      await waitFor(
        () =>
          both.received.length >= expected.both.length &&
          failedOnly.received.length >= expected.failedOnly.length &&
          theirs.received.length >= expected.theirs.length &&
          wide.received.length >= expected.wide.length,
      );
      expect(ids(both)).toEqual(expected.both);
      expect(ids(failedOnly)).toEqual(expected.failedOnly);
      expect(ids(theirs)).toEqual(expected.theirs);
      expect(ids(wide)).toEqual(expected.wide);
      expect((await n.asUser(ana).listWebhookDeliveries({ id: switchedOff })).data).toEqual([]);

      // The same batch again (a redelivery past the inbox) queues nothing; with one new event, only that one.
      expect(await withTransaction(n.pool, (tx) => n.app.webhooks.record(tx, batch))).toBe(0);
      const late = consumed("completed", bo);
      expect(await withTransaction(n.pool, (tx) => n.app.webhooks.record(tx, [...batch, late]))).toBe(1);
      n.app.worker.wake();
      await waitFor(() => theirs.received.length > expected.theirs.length);
      expect(ids(theirs)).toEqual([...expected.theirs, late.id]);
      expect(ids(both)).toEqual(expected.both);
      expect(ids(wide)).toEqual(expected.wide);
    } finally {
      await Promise.all([both, failedOnly, theirs, wide, off].map((r) => r?.close()));
    }
  });

  test("events consumed in several batches reach an endpoint in stream order, a republished one once", async ({
    notifications: n,
  }) => {
    const receiver = await startReceiver();
    try {
      const user = randomUUID();
      await endpoint(n, user, receiver, ["transaction.completed"]);
      const sent: string[] = [];
      for (let i = 0; i < 20; i++) {
        const id = randomUUID();
        await n.publishTransaction("wallet.transaction.completed", purchaseOf(user), id);
        sent.push(id);
        // The relay publishes an event again when it died before marking it: the same id, one webhook.
        if (i % 7 === 3) await n.publishTransaction("wallet.transaction.completed", purchaseOf(user), id);
      }
      await waitFor(() => receiver.received.length >= sent.length);
      expect(ids(receiver)).toEqual(sent);
      const marker = randomUUID();
      await n.publishTransaction("wallet.transaction.completed", purchaseOf(user), marker);
      await waitFor(() => receiver.received.length > sent.length);
      expect(ids(receiver)).toEqual([...sent, marker]);
    } finally {
      await receiver.close();
    }
  });
});
