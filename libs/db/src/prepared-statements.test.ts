import type pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createPool } from "./create-pool.js";
import { isTransientDbError } from "./pg-errors.js";
import { MAX_PREPARED_STATEMENTS } from "./prepared-statements.js";
import { adminQuery, databaseUrl, dropSchemas, scratchSchemaName } from "./test/scratch.js";
import { withTransaction } from "./with-transaction.js";

const schema = scratchSchemaName();
// One connection, so that what one query prepared is what the next one finds.
const pool = createPool({ url: databaseUrl, schema, max: 1 });

beforeAll(async () => {
  await adminQuery(`CREATE SCHEMA ${schema}`);
  await pool.query("CREATE TABLE items (id int8 PRIMARY KEY, name text NOT NULL)");
  await pool.query("INSERT INTO items VALUES (1, 'one'), (2, 'two'), (3, 'three')");
});

afterAll(async () => {
  try {
    await pool.end();
  } finally {
    await dropSchemas([schema]);
  }
});

/** The connection's prepared statements with this text, and how often Postgres executed each. */
async function preparedAs(db: pg.Pool | pg.PoolClient, text: string) {
  const { rows } = await db.query<{ name: string; runs: number }>(
    `SELECT name, (generic_plans + custom_plans)::int AS runs FROM pg_prepared_statements WHERE statement = $1`,
    [text],
  );
  return rows;
}

describe("a pool's statements with parameters", () => {
  test("are prepared once per connection and executed from then on", async () => {
    const text = "SELECT name FROM items WHERE id = $1";
    for (const id of [1, 2, 3, 1, 2, 3, 1]) {
      const { rows } = await pool.query<{ name: string }>(text, [id]);
      expect(rows).toEqual([{ name: ["one", "two", "three"][id - 1] }]);
    }
    expect(await preparedAs(pool, text)).toEqual([{ name: expect.stringMatching(/^fintech_/), runs: 7 }]);
  });

  test("in every form pg takes: a config object, a callback, a checked-out client", async () => {
    const text = "SELECT count(*)::int AS n FROM items WHERE id <= $1";
    const fromConfig = await pool.query<{ n: number }>({ text, values: [2] });
    const fromCallback = await new Promise<number>((resolve, reject) => {
      pool.query<{ n: number }>(text, [3], (err, res) => (err ? reject(err) : resolve(res.rows[0]?.n ?? -1)));
    });
    const client = await pool.connect();
    try {
      const arrays = await client.query({ text, values: [1], rowMode: "array" });
      expect([fromConfig.rows[0]?.n, fromCallback, arrays.rows[0]]).toEqual([2, 3, [1]]);
      expect(await preparedAs(client, text)).toEqual([{ name: expect.any(String), runs: 3 }]);
    } finally {
      client.release();
    }
  });

  test("without parameters, or several in one text, go as they are", async () => {
    const results = (await pool.query("SELECT 1 AS a; SELECT 2 AS b")) as unknown as pg.QueryResult[];
    expect(results.map((r) => r.rows[0])).toEqual([{ a: 1 }, { b: 2 }]);
    expect(await preparedAs(pool, "SELECT 1 AS a; SELECT 2 AS b")).toEqual([]);
  });

  test("a text that fails to prepare fails again the same way, and the connection goes on", async () => {
    const bad = "SELECT nme FROM items WHERE id = $1";
    await expect(pool.query(bad, [1])).rejects.toThrow(/column "nme" does not exist/);
    await expect(pool.query(bad, [1])).rejects.toThrow(/column "nme" does not exist/);
    // Refused inside a failed transaction, it is prepared by the next attempt after the rollback.
    const text = "SELECT id FROM items WHERE name = $1";
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      await expect(client.query("SELECT 1/0")).rejects.toThrow(/division by zero/);
      await expect(client.query(text, ["two"])).rejects.toThrow(/current transaction is aborted/);
      await client.query("ROLLBACK");
      expect((await client.query(text, ["two"])).rows).toEqual([{ id: 2n }]);
    } finally {
      client.release();
    }
  });

  test("a statement a migration made stale is prepared afresh: a transaction retries it, a query fails once as transient", async () => {
    await pool.query("CREATE TABLE accounts (id int8 PRIMARY KEY, owner text NOT NULL)");
    await pool.query("INSERT INTO accounts VALUES (1, 'ann')");
    const text = "SELECT * FROM accounts WHERE id = $1";
    expect((await pool.query(text, [1])).rows).toEqual([{ id: 1n, owner: "ann" }]);
    await pool.query("ALTER TABLE accounts ADD COLUMN currency text NOT NULL DEFAULT 'EUR'");
    const read = await withTransaction(pool, async (tx) => (await tx.query(text, [1])).rows);
    expect(read).toEqual([{ id: 1n, owner: "ann", currency: "EUR" }]);

    await pool.query("ALTER TABLE accounts ADD COLUMN closed boolean NOT NULL DEFAULT false");
    const failure = await pool.query(text, [1]).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isTransientDbError(failure)).toBe(true);
    expect((await pool.query(text, [1])).rows).toEqual([
      { id: 1n, owner: "ann", currency: "EUR", closed: false },
    ]);
  });

  test("are left unprepared by a pool created with preparedStatements: false", async () => {
    const plain = createPool({ url: databaseUrl, schema, max: 1, preparedStatements: false });
    try {
      const text = "SELECT name FROM items WHERE id = $1 AND $2::int > 0";
      expect((await plain.query(text, [3, 1])).rows).toEqual([{ name: "three" }]);
      expect(await preparedAs(plain, text)).toEqual([]);
    } finally {
      await plain.end();
    }
  });

  test("are planned afresh on the new connection that replaces one past its lifetime", async () => {
    const short = createPool({ url: databaseUrl, schema, max: 1, connectionLifetimeMs: 1000 });
    try {
      const text = "SELECT name FROM items WHERE id = $1 AND $2::text <> ''";
      const pid = async () =>
        (await short.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]?.pid;
      await short.query(text, [1, "x"]);
      await short.query(text, [2, "x"]);
      const first = await pid();
      expect(await preparedAs(short, text)).toEqual([{ name: expect.any(String), runs: 2 }]);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect((await short.query(text, [3, "x"])).rows).toEqual([{ name: "three" }]);
      expect(await pid()).not.toBe(first);
      expect(await preparedAs(short, text)).toEqual([{ name: expect.any(String), runs: 1 }]);
    } finally {
      await short.end();
    }
  });

  test(`past ${MAX_PREPARED_STATEMENTS} texts in a process, new ones run unprepared`, async () => {
    const texts = Array.from(
      { length: MAX_PREPARED_STATEMENTS + 20 },
      (_, i) => `SELECT $1::int + ${i} AS n`,
    );
    for (const [i, text] of texts.entries()) {
      expect((await pool.query<{ n: number }>(text, [1])).rows).toEqual([{ n: 1 + i }]);
    }
    const { rows } = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_prepared_statements");
    expect(rows[0]?.n).toBeLessThanOrEqual(MAX_PREPARED_STATEMENTS);
    expect(await preparedAs(pool, texts[0] ?? "")).toHaveLength(1);
    expect(await preparedAs(pool, texts.at(-1) ?? "")).toEqual([]);
  });
});
