import { randomUUID } from "node:crypto";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { streamName } from "@fintech/events";
import { TransactionStatus, TransactionType } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import { waitFor } from "@fintech/testing";
import { jetstreamManager } from "@nats-io/jetstream";
import { describe, expect } from "vitest";
import type { AnalyticsHarness } from "./test/harness.js";
import { analyticsTest } from "./test/harness.js";

const test = analyticsTest({ ANALYTICS_CACHE_TTL_SECONDS: "0" });
const WALLET = "analytics-wallet";

/** Waits until the wallet events' consumer has nothing left to deliver and nothing unacknowledged. */
async function drained(h: AnalyticsHarness): Promise<void> {
  const jsm = await jetstreamManager(h.nc);
  await waitFor(async () => {
    const info = await jsm.consumers.info(streamName("wallet", h.namespace), WALLET);
    return info.num_pending === 0 && info.num_ack_pending === 0;
  });
}

/** A completed purchase of `amount` MYR by `userId` at `at`. */
function purchase(userId: string, at: Date, amount: string) {
  return {
    transactionId: randomUUID(),
    userId,
    type: TransactionType.PURCHASE,
    status: TransactionStatus.COMPLETED,
    timezone: "Asia/Kuala_Lumpur",
    merchantCategory: "groceries",
    amount: { currency: "MYR", amount },
    baseAmount: { currency: "MYR", amount },
    createdAt: timestampFromDate(at),
    occurredAt: timestampFromDate(at),
  };
}

describe("two replicas", () => {
  test("share the batch consumers: each event counts once, redeliveries included, and one carries on alone", async ({
    analytics,
  }) => {
    const replica = await analytics.startReplica();
    let stopped = false;
    try {
      const user = `u-${randomUUID()}`;
      const day = Date.UTC(2029, 11, 30, 2);
      const events = Array.from({ length: 60 }, (_, i) => ({
        id: randomUUID(),
        event: purchase(user, new Date(day + i * 60_000), "1.00"),
      }));
      const inbox = await analytics.inbox(WALLET);
      await Promise.all(
        events.map((e) => analytics.publishTransaction("wallet.transaction.completed", e.event, e.id)),
      );
      // Every event again under the same id: as redelivered to whichever replica pulls it first.
      await Promise.all(
        events.map((e) => analytics.publishTransaction("wallet.transaction.completed", e.event, e.id)),
      );
      await analytics.settled(WALLET, inbox + 60);
      await drained(analytics);
      const summary = await analytics.as(user).getSummary({});
      expect([summary.transactionCount, summary.totalSpent]).toEqual([60n, "60.00"]);

      await replica.stop();
      stopped = true;
      const more = Array.from({ length: 10 }, (_, i) => ({
        id: randomUUID(),
        event: purchase(user, new Date(day + (60 + i) * 60_000), "1.00"),
      }));
      for (const e of more) await analytics.publishTransaction("wallet.transaction.completed", e.event, e.id);
      await analytics.settled(WALLET, inbox + 70);
      await drained(analytics);
      const after = await analytics.as(user).getSummary({});
      expect([after.transactionCount, after.totalSpent]).toEqual([70n, "70.00"]);
      expect(await analytics.inbox(WALLET)).toBe(inbox + 70);
    } finally {
      if (!stopped) await replica.stop();
    }
  });
});
