import { once } from "node:events";
import type { Server, Socket } from "node:net";
import { createServer } from "node:net";
import { createPool } from "@fintech/db";
import { freePort, startOwnNats, test, waitFor } from "@fintech/testing";
import { connect } from "@nats-io/transport-node";
import { Redis } from "ioredis";
import { describe, expect } from "vitest";
import { createReadiness, createReadinessReport, NotReadyError, READY } from "./readiness.js";

/** A TCP server that accepts connections and never says a word: a black-holed dependency. */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    port: address.port,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("createReadinessReport", () => {
  test("says ok for Postgres, NATS and Redis while each answers", async ({ pg, nats, redis }) => {
    const report = await createReadinessReport({ db: pg.pool, nats: nats.nc, redis: redis.client })();
    expect(report).toEqual({ ready: true, checks: { postgres: READY, nats: READY, redis: READY } });
    await expect(createReadiness({ db: pg.pool, nats: nats.nc, redis: redis.client })()).resolves.toBe(true);
  });

  test("names the dependency that refuses connections and still asks the others", async ({ pg, env }) => {
    const url = new URL(env.databaseUrl);
    url.host = `127.0.0.1:${await freePort()}`;
    const refusing = createPool({ url: url.toString(), onError: () => {} });
    const redisUrl = new URL(env.redisUrl);
    redisUrl.host = `127.0.0.1:${await freePort()}`;
    const noRedis = new Redis(redisUrl.toString(), {
      enableOfflineQueue: false,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
    });
    noRedis.on("error", () => {});
    try {
      const report = await createReadinessReport({
        db: refusing,
        redis: noRedis,
        more: { ledger: async () => READY },
      })();
      expect(report.ready).toBe(false);
      expect(report.checks.postgres).toMatch(/^unavailable: .*ECONNREFUSED/);
      expect(report.checks.redis).toMatch(/^unavailable: /);
      expect(report.checks.ledger).toBe(READY);

      const err = await createReadiness({ db: refusing, nats: undefined })().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NotReadyError);
      expect((err as NotReadyError).message).toMatch(/^not ready: postgres unavailable: /);
      // The reachable database next to it is reported as such.
      const mixed = await createReadinessReport({ db: pg.pool, redis: noRedis })();
      expect(mixed.checks.postgres).toBe(READY);
    } finally {
      await refusing.end();
      noRedis.disconnect();
    }
  });

  test("gives up on a dependency that accepts the connection but never answers", async ({ env }) => {
    const silent = await silentServer();
    const url = new URL(env.databaseUrl);
    url.host = `127.0.0.1:${silent.port}`;
    const hanging = createPool({ url: url.toString(), onError: () => {} });
    try {
      const started = Date.now();
      const report = await createReadinessReport({ db: hanging, timeoutMs: 200 })();
      expect(report).toEqual({ ready: false, checks: { postgres: "unavailable: no answer within 200 ms" } });
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await silent.close();
      await hanging.end().catch(() => {});
    }
  });

  test("follows a NATS connection that loses its server, gets it back, then closes", async () => {
    const server = await startOwnNats();
    const nc = await connect({ servers: server.url, reconnectTimeWait: 100, maxReconnectAttempts: -1 });
    const report = createReadinessReport({ nats: nc });
    try {
      expect((await report()).checks.nats).toBe(READY);
      await server.stop();
      await waitFor(async () => (await report()).checks.nats?.startsWith("unavailable: ") === true, {
        timeoutMs: 10_000,
      });
      await server.start();
      await waitFor(async () => (await report()).ready, { timeoutMs: 15_000 });
      await nc.close();
      expect(await report()).toEqual({ ready: false, checks: { nats: "unavailable: connection closed" } });
    } finally {
      if (!nc.isClosed()) await nc.close();
      await server.cleanup();
    }
  });

  test("reports a further check's own answer, and a rejection as unavailable", async () => {
    const report = await createReadinessReport({
      more: {
        fx: async () => "not_serving",
        identity: async () => {
          throw new Error("connect ECONNREFUSED");
        },
      },
    })();
    expect(report).toEqual({
      ready: false,
      checks: { fx: "not_serving", identity: "unavailable: connect ECONNREFUSED" },
    });
  });
});
