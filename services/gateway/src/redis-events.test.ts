import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { watchRedis } from "@fintech/platform";
import { waitFor } from "@fintech/testing";
import { Redis } from "ioredis";
import { describe, expect, test } from "vitest";
import { memoryLog } from "./test/harness.js";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

describe("the gateway's Redis client through an outage", () => {
  test("logs the outage once at warn, the retries quietly, and the recovery; then works again", async () => {
    // A redis-server of this test's own: the shared one is never stopped.
    const port = await freePort();
    let server: ChildProcess | undefined;
    const start = async () => {
      server = spawn(
        "redis-server",
        ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        {
          stdio: "ignore",
        },
      );
      await waitFor(async () => {
        const probe = new Redis({ port, host: "127.0.0.1", lazyConnect: true, retryStrategy: () => null });
        probe.on("error", () => {});
        try {
          await probe.connect();
          return (await probe.ping()) === "PONG";
        } catch {
          return false;
        } finally {
          probe.disconnect();
        }
      });
    };
    const stop = async () => {
      const running = server;
      server = undefined;
      if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
      const exited = once(running, "exit");
      running.kill("SIGKILL");
      await exited;
    };
    const log = memoryLog("gateway", "debug");
    const lines = () =>
      log
        .text()
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { level: string; msg: string; recovered?: boolean });
    await start();
    // The gateway's options (see main.ts).
    const redis = new Redis(`redis://127.0.0.1:${port}`, {
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
      await stop();
      // Several failed reconnects, one warn line.
      await waitFor(() => lines().filter((l) => l.msg.startsWith("redis connection error")).length >= 3, {
        timeoutMs: 10_000,
      });
      expect(lines().filter((l) => l.level === "warn" && l.msg === "redis connection error")).toHaveLength(1);
      expect(log.text()).not.toMatch(/"stack"/);

      await start();
      await waitFor(() => lines().some((l) => l.msg === "redis ready" && l.recovered === true), {
        timeoutMs: 10_000,
      });
      expect(await redis.ping()).toBe("PONG");
    } finally {
      redis.disconnect();
      await stop();
    }
  });
});
