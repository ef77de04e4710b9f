import { randomBytes } from "node:crypto";
import { createPool } from "@fintech/db";
import pg from "pg";

/** An empty Postgres schema owned by one test file. */
export interface PgFixture {
  /** Database URL without search_path: pass it, with `schema`, wherever a service takes its database config. */
  url: string;
  /** `t_<8 hex>`; created empty, dropped with CASCADE after the file. */
  schema: string;
  /** Pool (max 5) whose connections all use `search_path=<schema>`. Do not end it: the fixture does. */
  pool: pg.Pool;
}

/**
 * Creates a fresh schema and a pool bound to it, hands them to `use`, then ends the pool and drops the schema
 * even when `use` throws. The vitest `pg` fixture is this function.
 */
export async function providePg(
  databaseUrl: string,
  use: (fixture: PgFixture) => Promise<void>,
): Promise<void> {
  const schema = `t_${randomBytes(4).toString("hex")}`;
  await adminQuery(databaseUrl, `CREATE SCHEMA ${schema}`);
  try {
    const pool = createPool({ url: databaseUrl, schema, max: 5, applicationName: `test ${schema}` });
    try {
      await use({ url: databaseUrl, schema, pool });
    } finally {
      await pool.end();
    }
  } finally {
    // A fresh connection: the pool may be the thing that broke.
    await adminQuery(databaseUrl, `DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  }
}

async function adminQuery(databaseUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
