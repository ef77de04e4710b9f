import { watchRedis } from "@fintech/platform";
import { recordLogs, startOwnRedis, waitFor } from "@fintech/testing";
import { Redis } from "ioredis";
import { describe, expect, test } from "vitest";

describe("the gateway's Redis client through an outage", () => {
  test("logs the outage once at warn, the retries quietly, and the recovery; then works again", async () => {
    // A redis-server of this test's own: the shared one is never stopped.
    const server = await startOwnRedis();
    const log = recordLogs("gateway", "debug");
    const lines = () =>
      log
        .text()
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { level: string; msg: string; recovered?: boolean });
    // The gateway's options (see main.ts).
    const redis = new Redis(server.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: 250,
      lazyConnect: true,
      retryStrategy: () => 50,
    });
    watchRedis(redis, log.logger);
    try {
      await redis.connect();
      expect(await redis.ping()).toBe("PONG");
      await server.kill();
      // Several failed reconnects, one warn line.
      await waitFor(() => lines().filter((l) => l.msg.startsWith("redis connection error")).length >= 3, {
        timeoutMs: 10_000,
      });
      expect(lines().filter((l) => l.level === "warn" && l.msg === "redis connection error")).toHaveLength(1);
      expect(log.text()).not.toMatch(/"stack"/);

      await server.start();
      await waitFor(() => lines().some((l) => l.msg === "redis ready" && l.recovered === true), {
        timeoutMs: 10_000,
      });
      expect(await redis.ping()).toBe("PONG");
    } finally {
      redis.disconnect();
      await server.cleanup();
    }
  });
});
