import { createServer } from "node:net";
import type pg from "pg";
import { afterAll, describe, expect, test } from "vitest";
import { createPool } from "./create-pool.js";
import { isTransientDbError, sqlState } from "./pg-errors.js";
import { adminQuery, databaseUrl, dropSchemas, scratchSchemaName, until } from "./test/scratch.js";
import { withTransaction } from "./with-transaction.js";

const schema = scratchSchemaName();
const pools: pg.Pool[] = [];

function pool(opts: Omit<Parameters<typeof createPool>[0], "url"> & { url?: string } = {}): pg.Pool {
  const created = createPool({ url: databaseUrl, onError: () => {}, ...opts });
  pools.push(created);
  return created;
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

afterAll(async () => {
  try {
    await Promise.all(pools.map((p) => p.end()));
  } finally {
    await dropSchemas([schema]);
  }
});

describe("isTransientDbError", () => {
  test("a server that refuses connections is transient", async () => {
    const url = new URL(databaseUrl);
    url.host = `127.0.0.1:${await closedPort()}`;
    const error = await pool({ url: url.toString() })
      .query("SELECT 1")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(isTransientDbError(error)).toBe(true);
    // A store error wrapping it is still recognised.
    expect(isTransientDbError(new Error("store failed", { cause: error }))).toBe(true);
  });

  test("a connection terminated by the server under a query, and afterwards, is transient", async () => {
    const p = pool({ applicationName: "db-test-terminate" });
    const client = await p.connect();
    const broken: Error[] = [];
    client.on("error", (e) => broken.push(e));
    try {
      const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      const sleeping = client.query("SELECT pg_sleep(30)").catch((e: unknown) => e);
      // Our own connection's pid only: wait until it is inside pg_sleep, then end it from another connection.
      await until(async () => {
        const active = await adminQuery(
          "SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = 'active'",
          [rows[0]?.pid],
        );
        return active.rowCount === 1;
      });
      await adminQuery("SELECT pg_terminate_backend($1)", [rows[0]?.pid]);
      const error = await sleeping;
      expect(sqlState(error)).toBe("57P01");
      expect(isTransientDbError(error)).toBe(true);
      const after = await client.query("SELECT 1").catch((e: unknown) => e);
      expect(after).toBeInstanceOf(Error);
      expect(isTransientDbError(after)).toBe(true);
    } finally {
      client.release(true);
    }
  });

  test("a full pool that gives no connection within connectTimeoutMs is transient", async () => {
    const p = pool({ max: 1, connectTimeoutMs: 100 });
    const held = await p.connect();
    try {
      const error = await p.query("SELECT 1").catch((e: unknown) => e);
      expect(isTransientDbError(error)).toBe(true);
    } finally {
      held.release();
    }
  });

  test("serialization failures left after withTransaction's retries are transient", async () => {
    const p = pool({ schema });
    await adminQuery(`CREATE SCHEMA ${schema}`);
    await p.query("CREATE TABLE counter (n int NOT NULL)");
    await p.query("INSERT INTO counter VALUES (0)");
    let attempts = 0;
    const error = await withTransaction(
      p,
      async (tx) => {
        attempts++;
        await tx.query("SELECT n FROM counter");
        // Another transaction commits a change under this serializable one, so its own update must fail.
        await adminQuery(`UPDATE ${schema}.counter SET n = n + 1`);
        await tx.query("UPDATE counter SET n = n + 1");
      },
      { isolation: "serializable", maxRetries: 1 },
    ).catch((e: unknown) => e);
    expect(attempts).toBe(2);
    expect(sqlState(error)).toBe("40001");
    expect(isTransientDbError(error)).toBe(true);
  });

  test("errors that a retry cannot fix are not transient", async () => {
    const p = pool({ statementTimeoutMs: 50 });
    const syntax = await p.query("SELEC 1").catch((e: unknown) => e);
    const cancelled = await p.query("SELECT pg_sleep(5)").catch((e: unknown) => e);
    const divide = await p
      .query("SELECT x FROM (VALUES (1), (1)) v(x) GROUP BY x HAVING 1/0 = 1")
      .catch((e: unknown) => e);
    expect(sqlState(syntax)).toBe("42601");
    expect(sqlState(cancelled)).toBe("57014");
    expect(sqlState(divide)).toBe("22012");
    for (const error of [syntax, cancelled, divide, new Error("boom"), "text", undefined]) {
      expect(isTransientDbError(error)).toBe(false);
    }
  });
});
