import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { describe, expect } from "vitest";
import { test } from "./fixtures.js";

// Filled by the first test so the second can check that the whole file shares one set of resources.
const seen: { schema?: string; namespace?: string; prefix?: string } = {};

describe("test fixtures", () => {
  test("give a working, namespaced schema, NATS connection and Redis prefix", async ({
    pg,
    nats,
    redis,
    env,
  }) => {
    expect(pg.schema).toMatch(/^t_[0-9a-f]{8}$/);
    expect(pg.url).toBe(env.databaseUrl);
    await pg.pool.query("CREATE TABLE notes (body text NOT NULL)");
    await pg.pool.query("INSERT INTO notes VALUES ('hello')");
    const located = await pg.pool.query(
      "SELECT table_schema FROM information_schema.tables WHERE table_name = 'notes' AND table_schema = $1",
      [pg.schema],
    );
    expect(located.rowCount).toBe(1);

    expect(nats.namespace).toMatch(/^t[0-9a-f]{8}$/);
    const jsm = await jetstreamManager(nats.nc);
    await jsm.streams.add({
      name: `${nats.namespace.toUpperCase()}_NOTES`,
      subjects: [`${nats.namespace}.notes.>`],
    });
    const ack = await jetstream(nats.nc).publish(`${nats.namespace}.notes.created`, "hello");
    expect(ack.stream).toBe(`${nats.namespace.toUpperCase()}_NOTES`);

    expect(redis.prefix).toMatch(/^t[0-9a-f]{8}:$/);
    await redis.client.set(`${redis.prefix}note`, "hello");

    Object.assign(seen, { schema: pg.schema, namespace: nats.namespace, prefix: redis.prefix });
  });

  test("are shared by every test in the same file", async ({ pg, nats, redis }) => {
    expect({ schema: pg.schema, namespace: nats.namespace, prefix: redis.prefix }).toEqual(seen);
    expect((await pg.pool.query("SELECT body FROM notes")).rows).toEqual([{ body: "hello" }]);
    expect(await redis.client.get(`${redis.prefix}note`)).toBe("hello");
  });
});
