import { randomUUID } from "node:crypto";
import { describe, expect } from "vitest";
import { featureFallbacks, fraudTest, minutesBefore, purchase, scoreRequest } from "./test/harness.js";

// The service's Redis is a port nobody listens on: features still arrive (Postgres) and scoring still answers.
const test = fraudTest({ redisUrl: "redis://127.0.0.1:1" });
const T = new Date("2026-03-02T03:00:00Z");

describe("with Redis down", () => {
  test("scoring answers from Postgres with the same rules, and says so in a metric", async ({ fraud }) => {
    const user = randomUUID();
    await fraud.feed(
      ...[9, 7, 5, 3].map((m, i) => purchase(user, minutesBefore(T, m), `${10 + i}.00`)),
      purchase(user, minutesBefore(T, 1), "45.50"),
    );
    const before = await featureFallbacks("redis_error");
    const res = await fraud.score(scoreRequest(user, T, "45.50"));
    expect(res.flags.map((f) => [f.rule, f.values])).toEqual([
      ["HIGH_VELOCITY", { count: "6", threshold: "5", window: "10m" }],
      ["POSSIBLE_DUPLICATE", { matches: "1", window: "5m" }],
    ]);
    expect(await featureFallbacks("redis_error")).toBe(before + 1);

    // The scored transaction's own event, already consumed, is not counted twice from Postgres either.
    // (Under 3x the day's average of 18.30, so UNUSUAL_AMOUNT stays out of it.)
    const own = purchase(user, T, "50.00");
    await fraud.feed(own);
    const again = await fraud.score(scoreRequest(user, T, "50.00", { transactionId: own.transactionId }));
    expect(again.flags.map((f) => f.values.count)).toEqual(["6"]); // the 5 before it, and itself once
  });
});
