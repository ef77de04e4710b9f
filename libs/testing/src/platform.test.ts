import { platformServices } from "@fintech/platform";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { Redis } from "ioredis";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { startPlatform } from "./platform.js";
import { testEnv } from "./test-env.js";

// Seven processes compiling their TypeScript on a shared machine: minutes, not seconds.
const TIMEOUT_MS = 600_000;

async function databaseExists(url: string, name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name])).rowCount === 1;
  } finally {
    await client.end();
  }
}

async function streamsOf(natsUrl: string, namespace: string): Promise<string[]> {
  const nc = await connect({ servers: natsUrl });
  try {
    const names: string[] = [];
    for await (const name of (await jetstreamManager(nc)).streams.names()) {
      if (name.startsWith(`${namespace.toUpperCase()}_`)) names.push(name);
    }
    return names;
  } finally {
    await nc.drain();
  }
}

async function keysOf(redisUrl: string, prefix: string): Promise<string[]> {
  const redis = new Redis(redisUrl);
  try {
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, found] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
      keys.push(...found);
      cursor = next;
    } while (cursor !== "0");
    return keys;
  } finally {
    redis.disconnect();
  }
}

describe("the platform booter", () => {
  it(
    "starts every service, restarts a killed one on its port, and leaves nothing behind when isolated",
    async () => {
      const env = testEnv();
      const platform = await startPlatform({
        databaseUrl: env.databaseUrl,
        natsUrl: env.natsUrl,
        redisUrl: env.redisUrl,
        isolate: true,
      });
      const database = new URL(platform.databaseUrl).pathname.slice(1);
      const namespace = platform.namespace ?? "";
      const prefix = platform.redisPrefix ?? "";
      let stopped = false;
      try {
        // Every service of the registry, in its order: backends, then the edge.
        expect(platform.services).toEqual(platformServices.map((s) => s.name));
        for (const name of platform.services) expect(await platform.serving(name), name).toBe(true);
        // The admin identity made at its first start logs in through the gateway.
        const login = await fetch(`${platform.gatewayUrl}/api/v1/auth/login`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email: platform.admin.email, password: platform.admin.password }),
        });
        expect(login.status).toBe(200);
        expect(await databaseExists(env.databaseUrl, database)).toBe(true);
        expect(await streamsOf(env.natsUrl, namespace)).toContain(`${namespace.toUpperCase()}_WALLET`);
        expect((await keysOf(env.redisUrl, prefix)).length).toBeGreaterThan(0);

        const walletUrl = platform.url("wallet");
        const pid = platform.pid("wallet");
        await platform.kill("wallet");
        expect(platform.pid("wallet")).toBeUndefined();
        expect(await platform.serving("wallet")).toBe(false);
        expect(platform.exited()).toEqual([]);
        await platform.restart("wallet");
        expect(platform.url("wallet")).toBe(walletUrl);
        expect(platform.pid("wallet")).not.toBe(pid);
        expect(await platform.serving("wallet")).toBe(true);
        expect(platform.logs()).toContain("[wallet] --- SIGKILL at ");

        await platform.stop();
        stopped = true;
        expect(await platform.serving("gateway")).toBe(false);
        expect(await databaseExists(env.databaseUrl, database)).toBe(false);
        expect(await streamsOf(env.natsUrl, namespace)).toEqual([]);
        expect(await keysOf(env.redisUrl, prefix)).toEqual([]);
      } finally {
        if (!stopped) await platform.stop();
      }
    },
    TIMEOUT_MS,
  );

  it(
    "starts every service in one process in one-process mode, where a kill takes them all down and a restart brings them all back",
    async () => {
      const env = testEnv();
      const platform = await startPlatform({
        databaseUrl: env.databaseUrl,
        natsUrl: env.natsUrl,
        redisUrl: env.redisUrl,
        isolate: true,
        mode: "one-process",
      });
      const database = new URL(platform.databaseUrl).pathname.slice(1);
      let stopped = false;
      try {
        expect(platform.mode).toBe("one-process");
        const pid = platform.pid("identity");
        expect(pid).toBeDefined();
        for (const name of platform.services) {
          expect(await platform.serving(name), name).toBe(true);
          expect(platform.pid(name), name).toBe(pid);
        }
        const login = () =>
          fetch(`${platform.gatewayUrl}/api/v1/auth/login`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ email: platform.admin.email, password: platform.admin.password }),
          });
        expect((await login()).status).toBe(200);
        // Each service's lines are told apart although one process wrote them.
        expect(platform.logs()).toContain("[wallet] ");
        expect(platform.logs()).toContain("[gateway] ");

        await platform.kill("wallet");
        expect(platform.pid("gateway")).toBeUndefined();
        expect(await platform.serving("identity")).toBe(false);
        await platform.restart("wallet");
        expect(platform.pid("wallet")).not.toBe(pid);
        for (const name of platform.services) expect(await platform.serving(name), name).toBe(true);
        expect((await login()).status).toBe(200);

        await platform.stop();
        stopped = true;
        expect(await platform.serving("gateway")).toBe(false);
        expect(await databaseExists(env.databaseUrl, database)).toBe(false);
      } finally {
        if (!stopped) await platform.stop();
      }
    },
    TIMEOUT_MS,
  );
});
