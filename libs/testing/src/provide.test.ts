import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { Redis } from "ioredis";
import pg from "pg";
import { describe, expect, test } from "vitest";
import type { NatsFixture } from "./provide-nats.js";
import { provideNats } from "./provide-nats.js";
import type { PgFixture } from "./provide-pg.js";
import { providePg } from "./provide-pg.js";
import type { RedisFixture } from "./provide-redis.js";
import { provideRedis } from "./provide-redis.js";
import { testEnv } from "./test-env.js";

const env = testEnv();

// Every check below goes through a fresh connection, not the fixture's own, so it sees what really remains.

async function schemaExists(schema: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: env.databaseUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]);
    return rowCount === 1;
  } finally {
    await client.end();
  }
}

async function streamNames(): Promise<string[]> {
  const nc = await connect({ servers: env.natsUrl });
  try {
    const names: string[] = [];
    for await (const name of (await jetstreamManager(nc)).streams.names()) names.push(name);
    return names;
  } finally {
    await nc.drain();
  }
}

async function redisKeys(pattern: string): Promise<string[]> {
  const client = new Redis(env.redisUrl);
  try {
    return await client.keys(pattern);
  } finally {
    await client.quit();
  }
}

describe("providePg", () => {
  test("gives each caller its own schema and drops it afterwards, even when the test fails", async () => {
    const schemas: string[] = [];
    const failure = new Error("test failed");
    await expect(
      providePg(env.databaseUrl, async (a: PgFixture) => {
        await providePg(env.databaseUrl, async (b: PgFixture) => {
          schemas.push(a.schema, b.schema);
          await a.pool.query("CREATE TABLE t (v int4)");
          await b.pool.query("CREATE TABLE t (v int4)");
          await a.pool.query("INSERT INTO t VALUES (1)");
          expect((await b.pool.query("SELECT count(*)::int4 AS n FROM t")).rows).toEqual([{ n: 0 }]);
        });
        expect(await schemaExists(schemas[1]!)).toBe(false);
        expect(await schemaExists(a.schema)).toBe(true);
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(schemas[0]).not.toBe(schemas[1]);
    expect(await schemaExists(schemas[0]!)).toBe(false);
  });
});

describe("provideNats", () => {
  test("gives each caller its own namespace and deletes only that namespace's streams", async () => {
    const streams: string[] = [];
    await provideNats(env.natsUrl, async (a: NatsFixture) => {
      await provideNats(env.natsUrl, async (b: NatsFixture) => {
        expect(a.namespace).not.toBe(b.namespace);
        for (const { nc, namespace } of [a, b]) {
          const name = `${namespace.toUpperCase()}_ORDERS`;
          await (await jetstreamManager(nc)).streams.add({ name, subjects: [`${namespace}.orders.>`] });
          streams.push(name);
        }
      });
      const remaining = await streamNames();
      expect(remaining).toContain(streams[0]);
      expect(remaining).not.toContain(streams[1]);
    });
    expect(await streamNames()).not.toContain(streams[0]);
  });
});

describe("provideRedis", () => {
  test("gives each caller its own prefix and deletes only keys with it, however many", async () => {
    const prefixes: string[] = [];
    await provideRedis(env.redisUrl, async (a: RedisFixture) => {
      await provideRedis(env.redisUrl, async (b: RedisFixture) => {
        prefixes.push(a.prefix, b.prefix);
        // More keys than one SCAN batch, so cleanup has to follow the cursor.
        const pipeline = b.client.pipeline();
        for (let i = 0; i < 1200; i++) pipeline.set(`${b.prefix}k${i}`, "1");
        await pipeline.exec();
        await a.client.set(`${a.prefix}kept`, "1");
      });
      expect(await redisKeys(`${prefixes[1]}*`)).toEqual([]);
      expect(await redisKeys(`${prefixes[0]}*`)).toEqual([`${prefixes[0]}kept`]);
    });
    expect(prefixes[0]).not.toBe(prefixes[1]);
    expect(await redisKeys(`${prefixes[0]}*`)).toEqual([]);
  });
});
