import { randomUUID } from "node:crypto";
import { describe, expect } from "vitest";
import { featureFallbacks, fraudTest, minutesBefore, purchase, scoreRequest } from "./test/harness.js";

const test = fraudTest();
const T = new Date("2026-03-02T03:00:00Z");
const HOUR = 3_600_000;

describe("after a Redis outage", () => {
  test("events that missed Redis still count: scores read Postgres until the windows pass the gap", async ({
    fraud,
  }) => {
    const user = randomUUID();
    await fraud.feed(
      purchase(user, minutesBefore(T, 9), "10.00"),
      purchase(user, minutesBefore(T, 8), "11.00"),
    );
    fraud.redis.disconnect();
    await fraud.feed(...[7, 6, 5].map((m, i) => purchase(user, minutesBefore(T, m), `${20 + i}.00`)));
    await fraud.redis.connect();

    const stale = await featureFallbacks("redis_stale");
    const res = await fraud.score(scoreRequest(user, T));
    expect(res.flags.map((f) => f.values.count)).toEqual(["6"]); // 2 before, 3 during the outage, this one
    expect(await featureFallbacks("redis_stale")).toBe(stale + 1);

    // Two hours later every window is past the gap: Redis answers again.
    const later = new Date(T.getTime() + 2 * HOUR);
    await fraud.feed(
      ...[4, 3, 2, 1, 0.5].map((m, i) => purchase(user, minutesBefore(later, m), `${30 + i}.00`)),
    );
    const fresh = await fraud.score(scoreRequest(user, later));
    expect(fresh.flags.map((f) => f.values.count)).toEqual(["6"]);
    expect(await featureFallbacks("redis_stale")).toBe(stale + 1);
  });

  test("a Redis that lost its data is noticed, and scores read Postgres", async ({ fraud }) => {
    const user = randomUUID();
    const at = new Date(T.getTime() + 10 * HOUR);
    await fraud.feed(...[9, 7, 5, 3, 1].map((m, i) => purchase(user, minutesBefore(at, m), `${10 + i}.00`)));
    // What a restart without persistence leaves: none of the service's keys.
    const keys = await fraud.redis.keys(`${fraud.prefix}*`);
    await fraud.redis.del(...keys);

    const stale = await featureFallbacks("redis_stale");
    const res = await fraud.score(scoreRequest(user, at));
    expect(res.flags.map((f) => f.values.count)).toEqual(["6"]);
    expect(await featureFallbacks("redis_stale")).toBe(stale + 1);
    expect(await fraud.redis.exists(`${fraud.prefix}meta:epoch`)).toBe(1);
  });
});
