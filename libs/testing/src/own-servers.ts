// Servers of a test's (or a fault run's) own, for what must never happen to the shared ones: stopping NATS or
// Redis, restarting them, emptying them. Each runs as a child process on a free loopback port, and can be
// stopped and started again on that same port, as a real server comes back at its address.
// Also exported as "@fintech/testing/own-servers", without the vitest fixtures the package index loads, so
// the fault suite, which runs outside vitest, uses the same servers.
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:net";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { endChild } from "./end-child.js";
import { waitFor } from "./wait-for.js";

/** How long {@link OwnServer.start} waits for the server to accept connections, in milliseconds. */
const START_TIMEOUT_MS = 20_000;
/** How long {@link OwnServer.stop} lets the server shut down after SIGTERM before it SIGKILLs it, in ms. */
const STOP_GRACE_MS = 5_000;

/**
 * Ports this process handed out already. Whoever took one may not listen on it yet (a service still starting),
 * so binding it here would succeed and hand it out twice, and the later taker would fail with EADDRINUSE.
 * Forgotten in bulk once half the range has been handed out, long after use.
 */
const handedOut = new Set<number>();
const PORT_RANGE = { from: 20_000, size: 12_000 };

/**
 * `count` different loopback ports nothing listens on right now and none this process handed out before, picked
 * at random below the kernel's ephemeral range and each checked by binding it. Also the way to get a port where
 * a connection is refused.
 */
export async function freePorts(count: number): Promise<number[]> {
  if (handedOut.size + count > PORT_RANGE.size / 2) handedOut.clear();
  const ports: number[] = [];
  while (ports.length < count) {
    // Below the kernel's ephemeral range (32768 and up here), where every listen(0) and every outgoing
    // connection takes its port: a port picked there can be handed to another process before our server binds it.
    const port = PORT_RANGE.from + Math.floor(Math.random() * PORT_RANGE.size);
    // Every port of this call is in handedOut too, as soon as it is picked.
    if (handedOut.has(port)) continue;
    const server = createServer();
    const bound = await new Promise<boolean>((resolve) => {
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => resolve(true));
    });
    if (bound) {
      handedOut.add(port);
      ports.push(portOf(server));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
  return ports;
}

/** One loopback port nothing listens on right now; see {@link freePorts}. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  if (port === undefined) throw new Error("freePorts(1) returned no port");
  return port;
}

function portOf(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("a TCP server without a port");
  return address.port;
}

/** A server binary of the caller's own on one loopback port; see {@link startOwnNats}, {@link startOwnRedis}. */
export interface OwnServer {
  /** Where clients connect: `nats://127.0.0.1:<port>` or `redis://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /**
   * Starts the server (again) on the same port, with extra command-line arguments, and waits until it serves.
   * A server still running is killed first. Rejects with the server's last stderr if it exits or does not
   * serve within 20 s.
   */
  start(extraArgs?: readonly string[]): Promise<void>;
  /** Shuts the server down as an operator does: SIGTERM, then SIGKILL after 5 s. Resolves once it is gone. */
  stop(): Promise<void>;
  /** Kills the server as a crash does (SIGKILL). Resolves once it is gone. */
  kill(): Promise<void>;
  /** Stops the server and removes whatever it stored. */
  cleanup(): Promise<void>;
}

/** A redis-server of the caller's own; {@link OwnServer} plus emptying it. */
export interface OwnRedis extends OwnServer {
  /** FLUSHALL on this server, which is why it exists: never do that to the shared one. */
  flushAll(): Promise<void>;
}

/**
 * Starts `nats-server -js` on a free loopback port with a store directory of its own, which survives stop/kill
 * and start as a real server's disk does; {@link OwnServer.cleanup} removes it.
 */
export async function startOwnNats(): Promise<OwnServer> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "own-nats-"));
  const server = new ChildServer(
    "nats-server",
    port,
    ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", dir],
    () => accepts(port),
  );
  try {
    await server.start();
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    start: (extraArgs) => server.start(extraArgs),
    stop: () => server.stop(),
    kill: () => server.kill(),
    async cleanup() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts `redis-server` without persistence (`--save '' --appendonly no`) on a free loopback port: whatever
 * stops it loses its data, so a start after a stop comes back empty, as a cache node's restart does.
 */
export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const server = new ChildServer(
    "redis-server",
    port,
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    () => answersPing(url),
  );
  await server.start();
  return {
    url,
    port,
    start: (extraArgs) => server.start(extraArgs),
    stop: () => server.stop(),
    kill: () => server.kill(),
    cleanup: () => server.stop(),
    async flushAll() {
      const client = new Redis(url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      try {
        await client.connect();
        await client.flushall();
      } finally {
        client.disconnect();
      }
    },
  };
}

/** One server binary run in the foreground, on one port, that can be stopped and started again on it. */
class ChildServer {
  private child: ChildProcess | undefined;
  constructor(
    private readonly command: string,
    private readonly port: number,
    private readonly args: readonly string[],
    private readonly serves: () => Promise<boolean>,
  ) {}

  async start(extraArgs: readonly string[] = []): Promise<void> {
    await this.kill();
    const child = spawn(this.command, [...this.args, ...extraArgs], { stdio: ["ignore", "ignore", "pipe"] });
    // Kept for the error only: a server that will not start says why on stderr (port taken, bad flag).
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2_000);
    });
    let spawnError: Error | undefined;
    child.on("error", (err) => {
      spawnError = err;
    });
    this.child = child;
    try {
      await waitFor(
        async () => {
          if (spawnError !== undefined) throw spawnError;
          if (child.exitCode !== null || child.signalCode !== null) {
            throw new Error(`exited with ${child.exitCode ?? child.signalCode}`);
          }
          return this.serves();
        },
        { timeoutMs: START_TIMEOUT_MS, intervalMs: 50 },
      );
    } catch (err) {
      await this.kill();
      throw new Error(
        `${this.command} on port ${this.port} did not start: ${(err as Error).message}: ${stderr}`,
        {
          cause: err,
        },
      );
    }
  }

  stop(): Promise<void> {
    return this.end("SIGTERM");
  }

  kill(): Promise<void> {
    return this.end("SIGKILL");
  }

  private async end(signal: "SIGTERM" | "SIGKILL"): Promise<void> {
    const child = this.child;
    this.child = undefined;
    await endChild(child, signal, STOP_GRACE_MS);
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.connect(port, "127.0.0.1");
  });
}

async function answersPing(url: string): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  // Refused until the server listens: that is what the caller's polling waits out.
  probe.on("error", () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}
