import { randomUUID } from "node:crypto";
import { TransactionScoredSchema } from "@fintech/proto/fintech/fraud/v1/events_pb.js";
import { Decision } from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import { describe, expect } from "vitest";
import { fraudTest, minutesBefore, publishedEvents, purchase, scoreRequest } from "./test/harness.js";

// When a score is written: an approval after it is answered (a payment does not wait for fraud's commit), a
// review before (its case must exist before the wallet holds the money for an analyst).

const test = fraudTest();
const T = new Date("2026-03-02T03:00:00Z"); // 11:00 in Kuala Lumpur

describe("score writes", () => {
  test("an approval is answered while its row cannot be written yet; a repeat gets the same answer", async ({
    fraud,
  }) => {
    const req = scoreRequest(randomUUID(), T, "25.00");
    // Another session holds the scores table against inserts, as a slow commit would.
    const blocker = await fraud.pg.pool.connect();
    let answered: Awaited<ReturnType<typeof fraud.score>> | undefined;
    try {
      await blocker.query("BEGIN");
      await blocker.query("LOCK TABLE scores IN SHARE ROW EXCLUSIVE MODE");
      answered = await fraud.score(req);
      expect(answered).toMatchObject({ transactionId: req.transactionId, decision: Decision.APPROVE });
      fraud.clock.advance(60_000);
      expect(await fraud.score({ ...req, amount: { currency: "MYR", amount: "1.00" } })).toEqual(answered);
      const { rowCount } = await fraud.pg.pool.query("SELECT 1 FROM scores WHERE transaction_id = $1", [
        req.transactionId,
      ]);
      expect(rowCount).toBe(0);
    } finally {
      await blocker.query("ROLLBACK");
      blocker.release();
    }
    // Written once the table is free, with its event; reads through the service wait for it.
    const stats = await fraud.admin.getStats({ startTime: "2026-03-02", endTime: "2026-03-03" });
    expect(stats.scored).toBeGreaterThanOrEqual(1n);
    const { rows } = await fraud.pg.pool.query<{ score: number; decision: string }>(
      "SELECT score, decision FROM scores WHERE transaction_id = $1",
      [req.transactionId],
    );
    expect(rows).toEqual([{ score: answered?.score, decision: "approve" }]);
    const events = await publishedEvents(
      fraud,
      "fraud.transaction.scored",
      TransactionScoredSchema,
      (m) => m.transactionId === req.transactionId,
    );
    expect(events).toHaveLength(1);
  });

  test("an approval already written is the answer to a repeat, whatever the repeat carries", async ({
    fraud,
  }) => {
    // What the repeat's own input scores, for a transaction of its own: a HIGH_VALUE approval.
    const alone = await fraud.score(scoreRequest(randomUUID(), T, "12000.00"));
    expect(alone).toMatchObject({ decision: Decision.APPROVE, score: 20 });
    const req = scoreRequest(randomUUID(), T, "25.00");
    const first = await fraud.score(req);
    expect(first).toMatchObject({ decision: Decision.APPROVE, score: 0 });
    // Written, so only Postgres knows of it now.
    await fraud.app.service.flushed();
    fraud.clock.advance(60_000);
    expect(await fraud.score({ ...req, amount: { currency: "MYR", amount: "12000.00" } })).toEqual(first);
  });

  test("a review is answered only once its case is recorded", async ({ fraud }) => {
    const user = randomUUID();
    const minutes = [55, 50, 45, 40, 35, 9, 7, 5, 3, 1];
    await fraud.feed(...minutes.map((m, i) => purchase(user, minutesBefore(T, m), `${5000 + i}.00`)));
    const req = scoreRequest(user, T, "12000.00");
    const res = await fraud.score(req);
    expect(res.decision).toBe(Decision.REVIEW);
    const { rows } = await fraud.pg.pool.query<{ status: string }>(
      "SELECT status FROM reviews WHERE transaction_id = $1",
      [req.transactionId],
    );
    expect(rows).toEqual([{ status: "open" }]);
  });
});
