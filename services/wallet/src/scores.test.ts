import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import type { FraudService } from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import { Decision } from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import { TransactionType } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import { describe, expect } from "vitest";
import type { ScoreRequestInit } from "./scores.js";
import { createScorer } from "./scores.js";
import { platformTest } from "./test/harness.js";

// Fraud's scores for concurrent payments are asked in shared calls: each payment still gets its own answer,
// the one fraud recorded for it, and a failure that belongs to one request stays its own.
const test = platformTest();

function request(amount = "10.00"): ScoreRequestInit {
  return {
    transactionId: randomUUID(),
    userId: randomUUID(),
    type: TransactionType.PURCHASE,
    amount: { currency: "MYR", amount },
    baseAmount: { currency: "MYR", amount },
    merchantName: "Kedai",
    merchantCategory: "groceries",
    timezone: "Asia/Kuala_Lumpur",
    occurredAt: timestampFromDate(new Date()),
  };
}

/** Fraud as the wallet, counting calls; `change` replaces some of its methods (a slower or older fraud). */
function counted(fraud: Client<typeof FraudService>, change: Partial<Client<typeof FraudService>> = {}) {
  const calls = { score: 0, scoreBatch: 0 };
  const client: Client<typeof FraudService> = {
    ...fraud,
    score(req, options) {
      calls.score++;
      return (change.score ?? fraud.score)(req, options);
    },
    scoreBatch(req, options) {
      calls.scoreBatch++;
      return (change.scoreBatch ?? fraud.scoreBatch)(req, options);
    },
  };
  return { client, calls };
}

describe("scores asked of fraud", () => {
  test("concurrent requests share calls, and each gets the score fraud recorded for it", async ({
    platform: p,
  }) => {
    const { client, calls } = counted(p.fraud);
    const score = createScorer(client, 10_000);
    const requests = Array.from({ length: 12 }, (_, i) => request(`${10 + i}.00`));
    const answers = await Promise.all(requests.map(score));
    expect(answers.map((a) => a.transactionId)).toEqual(requests.map((r) => r.transactionId));
    for (const [i, r] of requests.entries()) {
      expect(await p.fraud.score(r)).toEqual(answers[i]);
      expect(answers[i]?.decision).toBe(Decision.APPROVE);
    }
    expect(calls.score + calls.scoreBatch).toBeLessThan(requests.length);
    expect(calls.scoreBatch).toBeGreaterThan(0);
  });

  test("a shared call refused for one invalid request is made again per request: only that one fails", async ({
    platform: p,
  }) => {
    const { client, calls } = counted(p.fraud);
    const score = createScorer(client, 10_000);
    const requests = [request(), request("-5.00"), request()];
    const outcomes = await Promise.allSettled(requests.map(score));
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    const refused = outcomes[1];
    expect(refused?.status === "rejected" && ConnectError.from(refused.reason).code).toBe(
      Code.InvalidArgument,
    );
    expect(calls).toEqual({ scoreBatch: 1, score: 3 });
  });

  test("a fraud without ScoreBatch (an older release) is asked with Score for each request", async ({
    platform: p,
  }) => {
    const { client, calls } = counted(p.fraud, {
      scoreBatch: () => Promise.reject(new ConnectError("unknown method", Code.Unimplemented)),
    });
    const score = createScorer(client, 10_000);
    const requests = [request(), request(), request()];
    const answers = await Promise.all(requests.map(score));
    expect(answers.map((a) => a.transactionId)).toEqual(requests.map((r) => r.transactionId));
    expect(calls).toEqual({ scoreBatch: 1, score: 3 });
  });

  test("a request not answered in time fails with DeadlineExceeded, its wait for a call included", async ({
    platform: p,
  }) => {
    const slow = async <T>(answer: () => Promise<T>) => {
      await sleep(400);
      return answer();
    };
    const { client } = counted(p.fraud, {
      score: (req, options) => slow(() => p.fraud.score(req, options)),
      scoreBatch: (req, options) => slow(() => p.fraud.scoreBatch(req, options)),
    });
    const score = createScorer(client, 250);
    const started = Date.now();
    const outcomes = await Promise.allSettled([request(), request(), request()].map(score));
    for (const o of outcomes) {
      expect(o.status === "rejected" && ConnectError.from(o.reason).code).toBe(Code.DeadlineExceeded);
    }
    expect(Date.now() - started).toBeLessThan(400);
  });
});
