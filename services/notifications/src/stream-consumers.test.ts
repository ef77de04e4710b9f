import { randomUUID } from "node:crypto";
import { streamName } from "@fintech/events";
import { waitFor } from "@fintech/testing";
import { jetstreamManager } from "@nats-io/jetstream";
import { describe, expect } from "vitest";
import { adminActs, record } from "./test/audit-kit.js";
import { notificationsTest, publishPurchase } from "./test/harness.js";
import { startReceiver } from "./test/receiver.js";

const test = notificationsTest();

describe("one durable consumer per stream", () => {
  test("a completed purchase and an audit entry reach the service once each, as a webhook, a receipt and an audit record", async ({
    notifications: n,
  }) => {
    const receiver = await startReceiver();
    try {
      const userId = randomUUID();
      const email = `u-${userId.slice(0, 8)}@example.com`;
      n.addresses.set(userId, email);
      await n.asUser(userId).createWebhook({ url: receiver.url, events: ["transaction.completed"] });
      const purchase = await publishPurchase(n, userId);
      const [entry] = await record(n, "wallet", [adminActs(userId, { action: "wallet.freeze" })]);
      await waitFor(() => receiver.received.length === 1 && n.inbox.mailsTo(email).length === 1);

      const jsm = await jetstreamManager(n.nc);
      const stream = streamName("wallet", n.namespace);
      const durables: string[] = [];
      for await (const c of jsm.consumers.list(stream)) durables.push(c.name);
      expect(durables).toEqual(["notifications-wallet"]);
      // Every message of the stream delivered once, for all three purposes.
      await waitFor(
        async () => (await jsm.consumers.info(stream, "notifications-wallet")).num_ack_pending === 0,
      );
      const info = await jsm.consumers.info(stream, "notifications-wallet");
      expect(info.delivered.consumer_seq).toBe((await jsm.streams.info(stream)).state.last_seq);
      expect(info.delivered.consumer_seq).toBe(2);
      // Each purpose's inbox rows under its own name, as when each had a durable of its own.
      const { rows } = await n.pool.query<{ consumer: string; event_id: string }>(
        "SELECT consumer, event_id FROM inbox WHERE event_id = ANY($1) ORDER BY consumer",
        [[purchase, entry]],
      );
      expect(rows).toEqual([
        { consumer: "notifications-audit-wallet", event_id: entry },
        { consumer: "notifications-mail-wallet", event_id: purchase },
        { consumer: "notifications-webhooks-wallet", event_id: purchase },
      ]);
    } finally {
      await receiver.close();
    }
  });
});
