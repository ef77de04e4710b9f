import { Registry } from "prom-client";
import { describe, expect, test } from "vitest";
import { createPool } from "./create-pool.js";
import { databaseUrl } from "./test/scratch.js";

/** The value of `name{pool="<label>"}` in a scrape of `registry`, 0 when the series is absent. */
async function scraped(registry: Registry, name: string, label: string): Promise<number> {
  const text = await registry.metrics();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{pool="${label}"}`));
  return line === undefined ? 0 : Number(line.split(" ").at(-1));
}

describe("pool metrics", () => {
  test("a scrape shows the pool's connections, idle ones, waiting queries and how long checkouts waited", async () => {
    const registry = new Registry();
    const pool = createPool({ url: databaseUrl, max: 2, applicationName: "metrics_test", registry });
    const label = "metrics_test";
    try {
      expect(await scraped(registry, "db_pool_connections", label)).toBe(0);
      const a = await pool.connect();
      const b = await pool.connect();
      expect(await scraped(registry, "db_pool_connections", label)).toBe(2);
      expect(await scraped(registry, "db_pool_connections_idle", label)).toBe(0);

      // The pool is full: a query waits for a connection until one is released.
      const waiting = pool.query("SELECT 1 AS one");
      expect(await scraped(registry, "db_pool_waiting_requests", label)).toBe(1);
      a.release();
      expect((await waiting).rows).toEqual([{ one: 1 }]);
      expect(await scraped(registry, "db_pool_waiting_requests", label)).toBe(0);
      b.release();
      expect(await scraped(registry, "db_pool_connections_idle", label)).toBe(2);

      // Two checkouts and the query's: three waits, one of them as long as the pool was full.
      expect(await scraped(registry, "db_pool_acquire_duration_seconds_count", label)).toBe(3);
      expect(await scraped(registry, "db_pool_acquire_duration_seconds_sum", label)).toBeGreaterThan(0);
    } finally {
      await pool.end();
    }
    // An ended pool is no longer reported.
    expect(await scraped(registry, "db_pool_connections", label)).toBe(0);
  });
});
