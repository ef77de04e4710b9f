import { platformServices } from "@fintech/platform";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { Redis } from "ioredis";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { startOtlpReceiver } from "./otlp-receiver.js";
import { startPlatform } from "./platform.js";
import { testEnv } from "./test-env.js";
import { waitFor } from "./wait-for.js";

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
    "starts every service, restarts a killed one on its port, runs replicas, and leaves nothing behind when isolated",
    async () => {
      const env = testEnv();
      const platform = await startPlatform({
        databaseUrl: env.databaseUrl,
        natsUrl: env.natsUrl,
        redisUrl: env.redisUrl,
        isolate: true,
        replicas: { ledger: 2 },
        maxReplicas: { ledger: 3 },
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

        // The ledger's callers are given every address a replica of it has or will have, on one port.
        const ledgerPort = new URL(platform.url("ledger@1")).port;
        expect(platform.callerUrl("ledger")).toBe(
          ["127.0.0.2", "127.0.0.3", "127.0.0.4"].map((host) => `http://${host}:${ledgerPort}`).join(","),
        );
        expect(platform.replicas("ledger")).toEqual(["ledger@1", "ledger@2"]);
        expect(platform.pid("ledger@1")).not.toBe(platform.pid("ledger@2"));
        // One replica down, the other serves the wallet: a top-up through the gateway is booked.
        await platform.kill("ledger@1");
        expect(await platform.serving("ledger@1")).toBe(false);
        expect(await platform.serving("ledger")).toBe(true);
        const json = { "content-type": "application/json" };
        const email = `replicas-${Date.now()}@example.com`;
        const password = "Replicas-Password-2026";
        const register = await fetch(`${platform.gatewayUrl}/api/v1/auth/register`, {
          method: "POST",
          headers: json,
          body: JSON.stringify({ email, password, full_name: "Replica Test" }),
        });
        expect(register.status).toBe(201);
        const token = (
          (await (
            await fetch(`${platform.gatewayUrl}/api/v1/auth/login`, {
              method: "POST",
              headers: json,
              body: JSON.stringify({ email, password }),
            })
          ).json()) as { access_token: string }
        ).access_token;
        const auth = { ...json, authorization: `Bearer ${token}` };
        const wallets = (await (
          await fetch(`${platform.gatewayUrl}/api/v1/wallets`, { headers: auth })
        ).json()) as {
          data: Array<{ id: string }>;
        };
        const fund = await fetch(`${platform.gatewayUrl}/api/v1/wallets/${wallets.data[0]?.id}/fund`, {
          method: "POST",
          headers: { ...auth, "idempotency-key": "replicas-fund-1" },
          body: JSON.stringify({ amount: "12.34" }),
        });
        expect(fund.status).toBe(201);
        expect(((await platform.requestsServed("ledger@2"))?.rpcs ?? 0) > 0).toBe(true);
        // A replica started while the platform runs takes the next address.
        expect(await platform.addReplica("ledger")).toBe("ledger@3");
        expect(platform.url("ledger@3")).toBe(`http://127.0.0.4:${ledgerPort}`);
        expect(await platform.serving("ledger@3")).toBe(true);
        await expect(platform.addReplica("ledger")).rejects.toThrow(/no address left/);
        await platform.restart("ledger@1");
        expect(await platform.serving("ledger@1")).toBe(true);

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
      const collector = await startOtlpReceiver();
      const platform = await startPlatform({
        databaseUrl: env.databaseUrl,
        natsUrl: env.natsUrl,
        redisUrl: env.redisUrl,
        isolate: true,
        mode: "one-process",
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_BSP_SCHEDULE_DELAY: "100" },
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
        // The variables given to every service are the process's own too: its spans go where they say.
        await waitFor(() =>
          collector.spans.find((s) => s.service === "one-process" && s.name === "POST /api/v1/auth/login"),
        );

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
        await collector.close();
      }
    },
    TIMEOUT_MS,
  );
});
