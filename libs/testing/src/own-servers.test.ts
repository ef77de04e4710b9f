import { connect as connectTcp, createServer } from "node:net";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { Redis } from "ioredis";
import { describe, expect, test } from "vitest";
import { freePort, freePorts, startOwnNats, startOwnRedis } from "./own-servers.js";

describe("freePorts", () => {
  test("gives distinct ports that can be listened on", async () => {
    const ports = await freePorts(4);
    expect(new Set(ports).size).toBe(4);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(first(ports), "127.0.0.1", resolve));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test("never hands out a port twice in one process, though nothing listens on the first one yet", async () => {
    // 2,000 of the 12,000 ports each time: drawn at random again, two such sets would share hundreds.
    const earlier = await freePorts(2000);
    const later = await freePorts(2000);
    expect(later.filter((port) => earlier.includes(port))).toEqual([]);
  });

  test("gives a port where a connection is refused", async () => {
    const port = await freePort();
    const refused = await new Promise<string | undefined>((resolve) => {
      const socket = connectTcp(port, "127.0.0.1", () => {
        socket.destroy();
        resolve(undefined);
      });
      socket.once("error", (err: NodeJS.ErrnoException) => resolve(err.code));
    });
    expect(refused).toBe("ECONNREFUSED");
  });
});

function first(ports: number[]): number {
  const [port] = ports;
  if (port === undefined) throw new Error("no port");
  return port;
}

describe("startOwnNats", () => {
  test("keeps JetStream's store across a kill and a start on the same port", async () => {
    const nats = await startOwnNats();
    try {
      const before = await connect({ servers: nats.url });
      await (await jetstreamManager(before)).streams.add({ name: "kept", subjects: ["kept.>"] });
      await before.close();

      await nats.kill();
      await expect(connect({ servers: nats.url, reconnect: false })).rejects.toThrow();
      await nats.start();

      const after = await connect({ servers: nats.url });
      try {
        const info = await (await jetstreamManager(after)).streams.info("kept");
        expect(info.config.subjects).toEqual(["kept.>"]);
      } finally {
        await after.close();
      }
    } finally {
      await nats.cleanup();
    }
  });

  test("a server that cannot start says so instead of hanging", async () => {
    const nats = await startOwnNats();
    try {
      await expect(nats.start(["--no-such-flag"])).rejects.toThrow(/nats-server on port \d+ did not start/);
    } finally {
      await nats.cleanup();
    }
  });
});

describe("startOwnRedis", () => {
  test("comes back empty after a stop, and flushAll empties it", async () => {
    const redis = await startOwnRedis();
    const client = new Redis(redis.url, { lazyConnect: true, retryStrategy: () => null });
    client.on("error", () => undefined);
    try {
      await client.connect();
      await client.set("k", "v");
      await redis.flushAll();
      expect(await client.get("k")).toBeNull();

      await client.set("k", "v");
      client.disconnect();
      await redis.stop();
      await redis.start();
      await client.connect();
      expect(await client.get("k")).toBeNull();
    } finally {
      client.disconnect();
      await redis.cleanup();
    }
  });
});
