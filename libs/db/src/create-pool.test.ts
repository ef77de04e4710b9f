import type pg from "pg";
import { afterAll, describe, expect, test } from "vitest";
import { createPool } from "./create-pool.js";
import { sqlState } from "./pg-errors.js";
import type { Queryable } from "./queryable.js";
import { adminQuery, databaseUrl, dropSchemas, scratchSchemaName, until } from "./test/scratch.js";

const schemas = [scratchSchemaName(), scratchSchemaName()] as const;
const pools: pg.Pool[] = [];

function pool(opts: Omit<Parameters<typeof createPool>[0], "url">): pg.Pool {
  const created = createPool({ url: databaseUrl, ...opts });
  pools.push(created);
  return created;
}

afterAll(async () => {
  try {
    await Promise.all(pools.map((p) => p.end()));
  } finally {
    await dropSchemas(schemas);
  }
});

describe("createPool", () => {
  test("each pool resolves unqualified names in its own schema, on every connection", async () => {
    const [a, b] = [pool({ schema: schemas[0], max: 3 }), pool({ schema: schemas[1], max: 3 })];
    for (const [p, schema] of [
      [a, schemas[0]],
      [b, schemas[1]],
    ] as const) {
      await adminQuery(`CREATE SCHEMA ${schema}`);
      await p.query("CREATE TABLE items (name text NOT NULL)");
      await p.query("INSERT INTO items VALUES ($1)", [schema]);
    }
    // Queryable accepts a pool as well as a checked-out client.
    const names = async (db: Queryable) => (await db.query("SELECT name FROM items")).rows;
    expect(await names(a)).toEqual([{ name: schemas[0] }]);
    expect(await names(b)).toEqual([{ name: schemas[1] }]);

    // Hold three connections at once so the check covers more than one reused connection.
    const clients = await Promise.all([a.connect(), a.connect(), a.connect()]);
    try {
      const seen = await Promise.all(clients.map((c) => c.query("SELECT current_schema() AS s")));
      expect(seen.map((r) => r.rows[0].s)).toEqual([schemas[0], schemas[0], schemas[0]]);
    } finally {
      for (const c of clients) c.release();
    }
    const tables = await adminQuery(
      "SELECT table_schema FROM information_schema.tables WHERE table_name = 'items' AND table_schema = ANY($1) ORDER BY 1",
      [[...schemas]],
    );
    expect(tables.rows.map((r) => r.table_schema)).toEqual([...schemas].sort());
  });

  test("rejects schema names that are not plain lower-case identifiers", () => {
    for (const bad of ["Public", "a;drop schema x", "1abc", "a-b", `a${"b".repeat(63)}`, ""]) {
      expect(() => createPool({ url: databaseUrl, schema: bad }), bad).toThrow(
        expect.objectContaining({ name: "InvalidSchemaNameError" }),
      );
    }
  });

  test("keeps options given in the URL next to search_path, and applies name and statement timeout", async () => {
    const url = `${databaseUrl}${databaseUrl.includes("?") ? "&" : "?"}options=${encodeURIComponent("-c lock_timeout=1234")}`;
    const p = createPool({ url, schema: schemas[0], applicationName: "db-test", statementTimeoutMs: 50 });
    pools.push(p);
    const { rows } = await p.query(
      "SELECT current_schema() AS s, current_setting('lock_timeout') AS lock, current_setting('application_name') AS app",
    );
    expect(rows[0]).toEqual({ s: schemas[0], lock: "1234ms", app: "db-test" });
    const error = await p.query("SELECT pg_sleep(5)").catch((e: unknown) => e);
    expect(sqlState(error)).toBe("57014");
  });

  test("an idle connection killed by the server reaches onError instead of crashing the process", async () => {
    const errors: Error[] = [];
    const p = pool({ onError: (e) => errors.push(e), applicationName: "db-test-idle" });
    const { rows } = await p.query("SELECT pg_backend_pid() AS pid");
    await adminQuery("SELECT pg_terminate_backend($1)", [rows[0].pid]);
    await until(() => errors.length > 0);
    expect(errors[0]?.message).toMatch(/terminat/);
    expect((await p.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
  });
});
