import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createPool } from "./create-pool.js";
import { isSerializationFailure, isUniqueViolation, sqlState } from "./pg-errors.js";
import { adminQuery, databaseUrl, dropSchemas, scratchSchemaName } from "./test/scratch.js";
import { afterCommit, withTransaction } from "./with-transaction.js";

const schema = scratchSchemaName();
const pool = createPool({ url: databaseUrl, schema, max: 4 });

beforeAll(async () => {
  await adminQuery(`CREATE SCHEMA ${schema}`);
  await pool.query("CREATE TABLE items (id int8 PRIMARY KEY, name text NOT NULL)");
  await pool.query("CREATE TABLE counter (id int4 PRIMARY KEY, value int8 NOT NULL)");
});

afterAll(async () => {
  try {
    await pool.end();
  } finally {
    await dropSchemas([schema]);
  }
});

async function itemNames(): Promise<string[]> {
  const { rows } = await pool.query<{ name: string }>("SELECT name FROM items ORDER BY id");
  return rows.map((r) => r.name);
}

/** Resolves once `parties` callers are waiting, so two transactions can be lined up deterministically. */
function barrier(parties: number): () => Promise<void> {
  let arrived = 0;
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return () => {
    arrived += 1;
    if (arrived === parties) open();
    return opened;
  };
}

const raise = (errcode: string) => `DO $$ BEGIN RAISE EXCEPTION 'test' USING ERRCODE = '${errcode}'; END $$`;

describe("withTransaction", () => {
  test("commits the function's writes and returns its result", async () => {
    const result = await withTransaction(pool, async (client) => {
      await client.query("INSERT INTO items VALUES (1, 'committed')");
      return "done";
    });
    expect(result).toBe("done");
    expect(await itemNames()).toEqual(["committed"]);
  });

  test("rolls back when the function throws, rethrowing the same error", async () => {
    const failure = new Error("boom", { cause: new Error("root") });
    const error = await withTransaction(pool, async (client) => {
      await client.query("INSERT INTO items VALUES (2, 'rolled back')");
      throw failure;
    }).catch((e: unknown) => e);
    expect(error).toBe(failure);
    expect((error as Error).cause).toEqual(new Error("root"));
    expect(await itemNames()).toEqual(["committed"]);
  });

  test("uses the requested isolation level", async () => {
    const levels = await Promise.all(
      ([undefined, "repeatable read", "serializable"] as const).map((isolation) =>
        withTransaction(
          pool,
          async (client) => (await client.query("SHOW transaction_isolation")).rows[0].transaction_isolation,
          isolation === undefined ? {} : { isolation },
        ),
      ),
    );
    expect(levels).toEqual(["read committed", "repeatable read", "serializable"]);
  });

  test("re-runs a transaction that lost a real serialization conflict, so no increment is lost", async () => {
    await pool.query("INSERT INTO counter VALUES (1, 0)");
    const bothRead = barrier(2);
    let attempts = 0;
    const increment = () =>
      withTransaction(
        pool,
        async (client) => {
          attempts += 1;
          const { rows } = await client.query("SELECT value FROM counter WHERE id = 1");
          // Only first attempts wait, so both snapshots predate either commit; a retry must not wait again.
          if (attempts <= 2) await bothRead();
          await client.query("UPDATE counter SET value = $1 WHERE id = 1", [rows[0].value + 1n]);
        },
        { isolation: "serializable" },
      );
    await Promise.all([increment(), increment()]);
    expect((await pool.query("SELECT value FROM counter WHERE id = 1")).rows[0].value).toBe(2n);
    expect(attempts).toBe(3);
  });

  test("retries a deadlock, then succeeds", async () => {
    let calls = 0;
    const result = await withTransaction(pool, async (client) => {
      calls += 1;
      if (calls === 1) await client.query(raise("40P01"));
      return calls;
    });
    expect(result).toBe(2);
  });

  test("gives up after maxRetries and rethrows the serialization failure", async () => {
    let calls = 0;
    const error = await withTransaction(
      pool,
      async (client) => {
        calls += 1;
        await client.query(raise("40001"));
      },
      { maxRetries: 2 },
    ).catch((e: unknown) => e);
    expect(calls).toBe(3);
    expect(sqlState(error)).toBe("40001");
    expect(isSerializationFailure(error)).toBe(true);
  });

  test("does not retry other database errors", async () => {
    let calls = 0;
    const error = await withTransaction(pool, async (client) => {
      calls += 1;
      await client.query("INSERT INTO items VALUES (1, 'duplicate')");
    }).catch((e: unknown) => e);
    expect(calls).toBe(1);
    expect(isUniqueViolation(error)).toBe(true);
    expect(isUniqueViolation(new Error("wrapped", { cause: error }))).toBe(true);
    expect(isSerializationFailure(error)).toBe(false);
  });

  test("destroys a connection that broke mid-transaction instead of returning it to the pool", async () => {
    const single = createPool({ url: databaseUrl, schema, max: 1 });
    try {
      const error = await withTransaction(single, async (client) => {
        await client.query("SELECT pg_terminate_backend(pg_backend_pid())");
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(single.totalCount).toBe(0);
      // With max 1, a leaked or reused dead connection would make this hang or fail.
      expect(
        await withTransaction(single, async (client) => (await client.query("SELECT 1 AS one")).rows),
      ).toEqual([{ one: 1 }]);
    } finally {
      await single.end();
    }
  });
});

describe("afterCommit", () => {
  test("runs once the transaction has committed, once per function, and never for an attempt rolled back", async () => {
    const seen: Array<{ pool: unknown; visible: string[] }> = [];
    const note = (p: unknown) => {
      // Reads on another connection: what the function sees was committed.
      void itemNames().then((visible) => seen.push({ pool: p, visible }));
    };
    let attempts = 0;
    await withTransaction(pool, async (client) => {
      attempts += 1;
      await client.query("DELETE FROM items");
      await client.query("INSERT INTO items VALUES (10, 'after commit')");
      afterCommit(client, note);
      afterCommit(client, note);
      // The first attempt loses a serialization conflict and rolls back: its registration goes with it.
      if (attempts === 1) await client.query(raise("40001"));
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(attempts).toBe(2);
    expect(seen).toEqual([{ pool, visible: ["after commit"] }]);

    const failed = await withTransaction(pool, async (client) => {
      afterCommit(client, note);
      throw new Error("nothing commits");
    }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(Error);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen).toHaveLength(1);
  });

  test("runs at once for a pool, whose statements commit on their own, and never for a client it did not open", async () => {
    const seen: unknown[] = [];
    afterCommit(pool, (p) => seen.push(p));
    expect(seen).toEqual([pool]);
    const client = await pool.connect();
    try {
      afterCommit(client, (p) => seen.push(p));
    } finally {
      client.release();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen).toEqual([pool]);
  });
});
