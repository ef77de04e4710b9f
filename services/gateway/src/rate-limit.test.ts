import { recordLogs, testUser, trustingAuthenticator } from "@fintech/testing";
import { Redis } from "ioredis";
import { register } from "prom-client";
import { describe, expect } from "vitest";
import { build } from "./server.js";
import type { ErrorBody } from "./test/harness.js";
import { caller, gatewayTest } from "./test/harness.js";

// Small limits so they are reached: 3 at once, then 1 per second.
const test = gatewayTest({ RATE_LIMIT_RPS: "1", RATE_LIMIT_BURST: "3" });

const user = (userId: string) => testUser(userId);

describe("rate limits", () => {
  test("a principal gets its burst, then 429 RATE_LIMITED with Retry-After; others are not affected", async ({
    gw,
  }) => {
    const alice = await gw.signer.token(user("alice"));
    const seen: Array<[number, string | null, string | null]> = [];
    for (let i = 0; i < 4; i++) {
      const res = await gw.call("/api/v1/fx/currencies", { token: alice });
      seen.push([res.status, res.headers.get("ratelimit"), res.headers.get("ratelimit-policy")]);
      if (res.status === 429) {
        expect(res.headers.get("retry-after")).toBe("1");
        expect((await res.json()) as ErrorBody).toMatchObject({
          error: "RATE_LIMITED",
          details: { retry_after_seconds: "1" },
          path: "/api/v1/fx/currencies",
        });
      }
    }
    const policy = '"default";q=3;w=3';
    expect(seen).toEqual([
      [200, '"default";r=2;t=1', policy],
      [200, '"default";r=1;t=2', policy],
      [200, '"default";r=0;t=3', policy],
      [429, '"default";r=0;t=1', policy],
    ]);
    const bob = await gw.signer.token(user("bob"));
    expect((await gw.call("/api/v1/fx/currencies", { token: bob })).status).toBe(200);
  });

  test("anonymous requests are limited per client address, errors included", async ({ gw }) => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await gw.call("/api/v1/no-such-route")).status);
    expect(statuses).toEqual([404, 404, 404, 429]);
    // Probes are never limited.
    expect((await gw.call("/health")).status).toBe(200);
  });

  test("with Redis down, requests go through (fail open), counted in a metric", async ({ gw, redis }) => {
    const dead = new Redis("redis://127.0.0.1:9", {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    dead.on("error", () => {});
    const log = recordLogs("gateway");
    const app = build(
      { ...gw.config, RATE_LIMIT_PREFIX: redis.prefix },
      {
        redis: dead,
        logger: log.logger,
        authenticator: trustingAuthenticator(gw.signer.publicJwk),
      },
    );
    const { url } = await app.start({ port: 0, host: "127.0.0.1" });
    try {
      const counter = register.getSingleMetric("gateway_rate_limit_fail_open_total");
      const before = (await counter?.get())?.values[0]?.value ?? 0;
      const token = await gw.signer.token(user("carol"));
      const call = caller(url);
      for (let i = 0; i < 5; i++) {
        const res = await call("/api/v1/fx/currencies", { token });
        expect(res.status).toBe(200);
        expect(res.headers.get("ratelimit-policy")).toBe('"default";q=3;w=3');
        expect(res.headers.get("ratelimit")).toBeNull();
      }
      expect((await counter?.get())?.values[0]?.value).toBe(before + 5);
      expect(log.text()).toContain("rate limiter unavailable");
    } finally {
      await app.stop();
      dead.disconnect();
    }
  });
});
