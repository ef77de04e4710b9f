import type pg from "pg";

/**
 * Runs `fn` on one connection checked out of `pool`, and gives it back: to the pool, or destroyed when it broke
 * (the client emitted `error`, or `fn` reported it through `broke`). A checked-out client has no pool error
 * listener, so an `error` event between two queries would otherwise crash the process.
 */
export async function withClient<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient, broke: (error: Error) => void) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const broke = (error: Error) => {
    broken ??= error;
  };
  client.on("error", broke);
  try {
    return await fn(client, broke);
  } finally {
    client.removeListener("error", broke);
    // release(error) makes the pool destroy the connection instead of reusing it.
    client.release(broken);
  }
}
