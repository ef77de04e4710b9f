import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { waitFor } from "@fintech/testing";
import { Redis } from "ioredis";

/** A redis-server of this test file's own, without persistence, for tests that empty or restart it. */
export interface OwnRedis {
  url: string;
  /** Stops the server (its data is gone: nothing is saved) and starts it again on the same port. */
  restart(): Promise<void>;
  /** FLUSHALL on this server (never on the shared one). */
  flushAll(): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  await once(server, "close");
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** Starts `redis-server --save '' --appendonly no` on a free loopback port and waits until it answers. */
export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  async function start(): Promise<void> {
    child = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      { stdio: "ignore" },
    );
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    // Refused until the server listens: that is what the loop below waits out.
    probe.on("error", () => undefined);
    try {
      await waitFor(
        async () => {
          try {
            if (probe.status !== "ready") await probe.connect();
            return (await probe.ping()) === "PONG";
          } catch {
            probe.disconnect();
            return false;
          }
        },
        { timeoutMs: 10_000, intervalMs: 50 },
      );
    } finally {
      probe.disconnect();
    }
  }

  async function stop(): Promise<void> {
    const c = child;
    child = undefined;
    if (c === undefined || c.exitCode !== null) return;
    const exited = once(c, "exit");
    c.kill("SIGKILL");
    await exited;
  }

  await start();
  return {
    url,
    async restart() {
      await stop();
      await start();
    },
    async flushAll() {
      const client = new Redis(url);
      try {
        await client.flushall();
      } finally {
        client.disconnect();
      }
    },
    stop,
  };
}
