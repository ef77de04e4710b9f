import { randomUUID } from "node:crypto";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { waitFor } from "@fintech/testing";
import { describe, expect } from "vitest";
import type { NotificationsHarness } from "./test/harness.js";
import { notificationsTest, publishPurchase } from "./test/harness.js";
import type { Receiver } from "./test/receiver.js";
import { startReceiver } from "./test/receiver.js";

const test = notificationsTest({ WEBHOOK_ENDPOINT_CONCURRENCY: "2" });

async function endpoint(n: NotificationsHarness, userId: string, receiver: Receiver, events: string[]) {
  const { webhook } = await n.asUser(userId).createWebhook({ url: receiver.url, events });
  return { id: webhook?.id ?? "", secret: webhook?.secret ?? "" };
}

const received = (r: Receiver, count: number) =>
  waitFor(() => r.received.length >= count, { timeoutMs: 15_000 });

describe("webhook deliveries", () => {
  test("a failing receiver gets the same signed event again with growing spacing until it answers 2xx", async ({
    notifications: n,
  }) => {
    const receiver = await startReceiver((i) => (i < 3 ? 500 : 204));
    try {
      const user = randomUUID();
      const hook = await endpoint(n, user, receiver, ["transaction.completed"]);
      const eventId = await publishPurchase(n, user);

      await received(receiver, 1);
      const first = receiver.received[0];
      if (first === undefined) throw new Error("no request");
      const body = receiver.verify(first, hook.secret, n.clock.now()) as Record<string, unknown>;
      expect(body).toMatchObject({
        id: eventId,
        type: "transaction.completed",
        data: {
          user_id: user,
          amount: "45.50",
          currency: "MYR",
          transaction_type: "purchase",
          status: "completed",
          merchant_name: "Kopi Corner",
        },
      });
      expect(first.headers["webhook-id"]).toBe(eventId);
      expect((body.data as Record<string, unknown>).updated_at).toEqual(expect.any(String));

      // Each retry waits longer: 30 s, 60 s, 120 s, each moved by up to a fifth at random.
      for (const [attempt, nominal] of [
        [1, 30_000],
        [2, 60_000],
        [3, 120_000],
      ] as const) {
        const now = n.clock.now().getTime();
        // Settled: the attempt is recorded with its delivery's next time, in one transaction.
        await waitFor(async () => (await attemptsOf(n, user, hook.id)).length === attempt);
        const delivery = await deliveryOf(n, user, hook.id);
        expect(delivery).toMatchObject({ status: "pending", lastResponseCode: 500 });
        const next =
          delivery?.nextAttemptAt === undefined ? 0 : timestampDate(delivery.nextAttemptAt).getTime();
        expect(next - now).toBeGreaterThanOrEqual(nominal * 0.8);
        expect(next - now).toBeLessThanOrEqual(nominal * 1.2);
        // Nothing is sent before it is due.
        expect(receiver.received.length).toBe(attempt);
        n.clock.set(new Date(next));
        await received(receiver, attempt + 1);
      }

      await waitFor(async () => (await deliveryOf(n, user, hook.id))?.status === "succeeded");
      // The same event every time, every time signed and verifiable at the time it was sent.
      expect(receiver.received.map((r) => r.headers["webhook-id"])).toEqual([
        eventId,
        eventId,
        eventId,
        eventId,
      ]);
      expect(receiver.received.map((r) => r.status)).toEqual([500, 500, 500, 204]);
      const last = receiver.received[3];
      if (last === undefined) throw new Error("no last request");
      expect(() => receiver.verify(last, hook.secret, n.clock.now())).not.toThrow();
      // A replayed old request is refused by the receiver's library once it is older than 5 minutes.
      expect(() =>
        receiver.verify(first, hook.secret, new Date(n.clock.now().getTime() + 10 * 60_000)),
      ).toThrow();

      const delivery = await deliveryOf(n, user, hook.id);
      const { data: attempts } = await n
        .asUser(user)
        .listWebhookDeliveryAttempts({ id: hook.id, deliveryId: delivery?.id ?? "" });
      expect(attempts.map((a) => [a.attempt, a.responseCode])).toEqual([
        [1, 500],
        [2, 500],
        [3, 500],
        [4, 204],
      ]);
      expect(attempts.every((a) => a.durationMs >= 0 && a.startedAt !== undefined)).toBe(true);
    } finally {
      await receiver.close();
    }
  });

  test("events go to the endpoints that take them: their owner's types, and every user's for a platform-wide one", async ({
    notifications: n,
  }) => {
    const mine = await startReceiver();
    const theirs = await startReceiver();
    const wide = await startReceiver();
    try {
      const ana = randomUUID();
      const bo = randomUUID();
      const anaHook = await endpoint(n, ana, mine, ["transaction.completed"]);
      await endpoint(n, bo, theirs, ["transaction.completed"]);
      const { webhook } = await n.asUser(randomUUID(), { admin: true }).createWebhook({
        url: wide.url,
        events: ["transaction.completed", "transaction.failed"],
        platformWide: true,
      });

      const created = await publishPurchase(n, ana, "created");
      const completed = await publishPurchase(n, ana, "completed");
      const failed = await publishPurchase(n, ana, "failed");
      await received(wide, 2);
      await received(mine, 1);
      expect(mine.received.map((r) => r.headers["webhook-id"])).toEqual([completed]);
      expect(theirs.received).toEqual([]);
      expect(wide.received.map((r) => r.headers["webhook-id"]).sort()).toEqual([completed, failed].sort());
      expect(wide.received.map((r) => r.headers["webhook-id"])).not.toContain(created);
      for (const r of wide.received)
        expect(() => wide.verify(r, webhook?.secret ?? "", n.clock.now())).not.toThrow();

      // A re-send is the same event again; a replay sends every kept event it takes since a time.
      const [delivery] = (await n.asUser(ana).listWebhookDeliveries({ id: anaHook.id })).data;
      const again = await n
        .asUser(ana)
        .resendWebhookDelivery({ id: anaHook.id, deliveryId: delivery?.id ?? "" });
      expect(again.delivery).toMatchObject({ eventId: completed, status: "pending" });
      await received(mine, 2);
      expect(mine.received[1]?.headers["webhook-id"]).toBe(completed);
      const replay = await n.asUser(ana).replayWebhookEvents({
        id: anaHook.id,
        since: { seconds: BigInt(Math.floor(Date.now() / 1000) - 3600), nanos: 0 },
      });
      expect(replay.queued).toBe(1);
      await received(mine, 3);
      expect(mine.received[2]?.headers["webhook-id"]).toBe(completed);
    } finally {
      await Promise.all([mine.close(), theirs.close(), wide.close()]);
    }
  });

  test("a receiver that never answers does not hold back another receiver's deliveries", async ({
    notifications: n,
  }) => {
    const stuck = await startReceiver(() => "hold");
    const quick = await startReceiver();
    try {
      const slowUser = randomUUID();
      const quickUser = randomUUID();
      await endpoint(n, slowUser, stuck, ["transaction.completed"]);
      await endpoint(n, quickUser, quick, ["transaction.completed"]);
      for (let i = 0; i < 10; i++) await publishPurchase(n, slowUser);
      const sent: string[] = [];
      for (let i = 0; i < 10; i++) sent.push(await publishPurchase(n, quickUser));
      await received(quick, 10);
      expect(quick.received.map((r) => r.headers["webhook-id"]).sort()).toEqual(sent.sort());
      // The stuck endpoint holds its own slots only (WEBHOOK_ENDPOINT_CONCURRENCY 2), however many wait for it.
      expect(stuck.received.length).toBeLessThanOrEqual(2);
    } finally {
      await Promise.all([stuck.close(), quick.close()]);
    }
  });

  test("during a secret rotation both secrets sign; after the overlap only the new one", async ({
    notifications: n,
  }) => {
    const receiver = await startReceiver();
    try {
      const user = randomUUID();
      const hook = await endpoint(n, user, receiver, ["transaction.completed"]);
      const { webhook } = await n.asUser(user).rotateWebhookSecret({ id: hook.id, overlapHours: 1 });
      const fresh = webhook?.secret ?? "";
      expect(fresh).toMatch(/^whsec_/);
      expect(fresh).not.toBe(hook.secret);

      await publishPurchase(n, user);
      await received(receiver, 1);
      const during = receiver.received[0];
      if (during === undefined) throw new Error("no request");
      expect(String(during.headers["webhook-signature"]).split(" ")).toHaveLength(2);
      expect(() => receiver.verify(during, hook.secret, n.clock.now())).not.toThrow();
      expect(() => receiver.verify(during, fresh, n.clock.now())).not.toThrow();

      n.clock.advance(3_600_000 + 1_000);
      await publishPurchase(n, user);
      await received(receiver, 2);
      const after = receiver.received[1];
      if (after === undefined) throw new Error("no request");
      expect(String(after.headers["webhook-signature"]).split(" ")).toHaveLength(1);
      expect(() => receiver.verify(after, fresh, n.clock.now())).not.toThrow();
      expect(() => receiver.verify(after, hook.secret, n.clock.now())).toThrow();
    } finally {
      await receiver.close();
    }
  });
});

async function deliveryOf(n: NotificationsHarness, user: string, webhookId: string) {
  const { data } = await n.asUser(user).listWebhookDeliveries({ id: webhookId });
  return data[0];
}

async function attemptsOf(n: NotificationsHarness, user: string, webhookId: string) {
  const delivery = await deliveryOf(n, user, webhookId);
  if (delivery === undefined) return [];
  return (await n.asUser(user).listWebhookDeliveryAttempts({ id: webhookId, deliveryId: delivery.id })).data;
}
