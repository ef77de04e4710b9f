import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { OwnRedis } from "@fintech/testing";
import { startOwnRedis } from "@fintech/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect } from "vitest";
import { featureFallbacks, fraudTest, minutesBefore, purchase, scoreRequest } from "./test/harness.js";

// A Redis of this file's own: pausing the shared one would stall every other test using it.
let own: OwnRedis;
beforeAll(async () => {
  own = await startOwnRedis();
});
afterAll(async () => {
  await own?.cleanup();
});

const test = fraudTest({
  get redisUrl() {
    return own.url;
  },
});
const T = new Date("2026-03-02T03:00:00Z");

describe("a Redis that answers late", () => {
  test("a window write answered after the read timeout is not a gap: scores keep reading Redis", async ({
    fraud,
  }) => {
    const user = randomUUID();
    await fraud.feed(
      purchase(user, minutesBefore(T, 9), "10.00"),
      purchase(user, minutesBefore(T, 8), "11.00"),
    );
    // Writes wait 300 ms, six times the 50 ms a score waits: a busy Redis, or a busy process reading it.
    const admin = new Redis(own.url);
    try {
      await admin.call("CLIENT", "PAUSE", "300", "WRITE");
      await fraud.feed(...[7, 6, 5].map((m, i) => purchase(user, minutesBefore(T, m), `${20 + i}.00`)));
      await sleep(300); // the pause is over
    } finally {
      admin.disconnect();
    }
    const [stale, failed] = [await featureFallbacks("redis_stale"), await featureFallbacks("redis_error")];
    const res = await fraud.score(scoreRequest(user, T));
    expect(res.flags.map((f) => f.values.count)).toEqual(["6"]);
    expect(await featureFallbacks("redis_error")).toBe(failed);
    expect(await featureFallbacks("redis_stale")).toBe(stale);
  });
});
