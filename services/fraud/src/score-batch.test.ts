import { randomUUID } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { TransactionScoredSchema } from "@fintech/proto/fintech/fraud/v1/events_pb.js";
import { Decision } from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import { describe, expect } from "vitest";
import {
  expectRefusal,
  fraudTest,
  minutesBefore,
  publishedEvents,
  purchase,
  scoreRequest,
} from "./test/harness.js";

// ScoreBatch: several transactions scored in one call, each as Score would.

const test = fraudTest();
const T = new Date("2026-03-02T03:00:00Z"); // 11:00 in Kuala Lumpur

describe("ScoreBatch", () => {
  test("answers each transaction in request order, as Score would, and records each once", async ({
    fraud,
  }) => {
    const busy = randomUUID();
    const minutes = [55, 50, 45, 40, 35, 9, 7, 5, 3, 1];
    await fraud.feed(...minutes.map((m, i) => purchase(busy, minutesBefore(T, m), `${5000 + i}.00`)));
    const requests = [
      scoreRequest(randomUUID(), T, "25.00"),
      scoreRequest(busy, T, "12000.00"),
      scoreRequest(randomUUID(), T, "40.00"),
    ];
    const { results } = await fraud.wallet.scoreBatch({ requests });
    expect(results.map((r) => r.transactionId)).toEqual(requests.map((r) => r.transactionId));
    expect(results.map((r) => r.decision)).toEqual([Decision.APPROVE, Decision.REVIEW, Decision.APPROVE]);
    // Score afterwards answers what the batch recorded; the review case exists.
    for (const [i, r] of requests.entries()) expect(await fraud.score(r)).toEqual(results[i]);
    const { data } = await fraud.admin.listReviews({ userId: busy });
    expect(data.map((c) => c.transactionId)).toEqual([requests[1]?.transactionId]);
    for (const r of requests) {
      const events = await publishedEvents(
        fraud,
        "fraud.transaction.scored",
        TransactionScoredSchema,
        (m) => m.transactionId === r.transactionId,
      );
      expect(events).toHaveLength(1);
    }
  });

  test("a batch with an invalid transaction is refused as a whole, naming it, and records nothing", async ({
    fraud,
  }) => {
    const good = scoreRequest(randomUUID(), T, "25.00");
    const bad = scoreRequest(randomUUID(), T, "25.00", { amount: { currency: "MYR", amount: "-1.00" } });
    await expectRefusal(
      fraud.wallet.scoreBatch({ requests: [good, bad] }),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
      {
        field: "requests[1].amount.amount",
      },
    );
    await expectRefusal(fraud.wallet.scoreBatch({ requests: [] }), Code.InvalidArgument, "VALIDATION_ERROR", {
      field: "requests",
    });
    const { rowCount } = await fraud.pg.pool.query("SELECT 1 FROM scores WHERE transaction_id = $1", [
      good.transactionId,
    ]);
    expect(rowCount).toBe(0);
  });

  test("only the services allowed to score may call it", async ({ fraud }) => {
    const requests = [scoreRequest(randomUUID(), T)];
    await expectRefusal(fraud.admin.scoreBatch({ requests }), Code.PermissionDenied, "FORBIDDEN");
    await expectRefusal(
      fraud.as("service:analytics").scoreBatch({ requests }),
      Code.PermissionDenied,
      "FORBIDDEN",
    );
  });
});
