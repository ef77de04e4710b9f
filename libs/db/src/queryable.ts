import type pg from "pg";

/**
 * Anything that can run a query: a `pg.Pool`, a checked-out `pg.PoolClient`, or the client inside
 * {@link withTransaction}. Store functions take this so the caller decides whether they run in a transaction.
 */
export type Queryable = Pick<pg.PoolClient, "query">;
