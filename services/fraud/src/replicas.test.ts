import { randomUUID } from "node:crypto";
import { streamName } from "@fintech/events";
import { waitFor } from "@fintech/testing";
import { jetstreamManager } from "@nats-io/jetstream";
import { describe, expect } from "vitest";
import { FEATURES_CONSUMER } from "./events.js";
import type { FraudHarness } from "./test/harness.js";
import { consumed, fraudTest, publishWalletEvent, purchase } from "./test/harness.js";

const test = fraudTest();

/** Waits until the feature consumer has nothing left to deliver and nothing unacknowledged. */
async function drained(h: FraudHarness): Promise<void> {
  const jsm = await jetstreamManager(h.nc);
  await waitFor(async () => {
    const info = await jsm.consumers.info(streamName("wallet", h.namespace), FEATURES_CONSUMER);
    return info.num_pending === 0 && info.num_ack_pending === 0;
  });
}

/** A user's daily totals, all days together: what UNUSUAL_AMOUNT compares with. */
async function totals(h: FraudHarness, userId: string): Promise<{ count: number; total: bigint }> {
  const { rows } = await h.pg.pool.query<{ count: number; total: bigint }>(
    `SELECT coalesce(sum(tx_count), 0)::int4 AS count, coalesce(sum(base_total_minor), 0)::int8 AS total
       FROM user_daily_totals WHERE user_id = $1`,
    [userId],
  );
  return rows[0] ?? { count: 0, total: 0n };
}

describe("two replicas", () => {
  test("share the feature consumer: each event counts once, redeliveries included, and one carries on alone", async ({
    fraud,
  }) => {
    const replica = await fraud.startReplica();
    let stopped = false;
    try {
      const user = `u-${randomUUID()}`;
      const at = fraud.clock.now().getTime();
      const first = Array.from({ length: 40 }, (_, i) => purchase(user, new Date(at - i * 60_000), "1.00"));
      const ids = await Promise.all(first.map((e) => publishWalletEvent(fraud.nc, fraud.namespace, e)));
      // The same events again under new message ids, as a relay republishing after JetStream's duplicate window
      // would send them: whichever replica pulls a copy must find the event counted.
      await Promise.all(
        first.map((e, i) => publishWalletEvent(fraud.nc, fraud.namespace, e, { eventId: ids[i] ?? "" })),
      );
      for (const e of first) await consumed(fraud.pg, e.transactionId);
      await drained(fraud);
      expect(await totals(fraud, user)).toEqual({ count: 40, total: 4000n });

      await replica.stop();
      stopped = true;
      const later = Array.from({ length: 10 }, (_, i) =>
        purchase(user, new Date(at - (40 + i) * 60_000), "1.00"),
      );
      await fraud.feed(...later);
      await drained(fraud);
      expect(await totals(fraud, user)).toEqual({ count: 50, total: 5000n });
    } finally {
      if (!stopped) await replica.stop();
    }
  });
});
