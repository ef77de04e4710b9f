import type pg from "pg";
import type { Registry } from "prom-client";
import { Gauge, Histogram, register } from "prom-client";

/** The Prometheus instruments of every pool in one registry, told apart by their `pool` label. */
interface PoolInstruments {
  pools: Map<pg.Pool, string>;
  connections: Gauge<"pool">;
  idle: Gauge<"pool">;
  waiting: Gauge<"pool">;
  acquire: Histogram<"pool">;
}

// Seconds: a free connection is handed out in microseconds, a new one takes a round trip or a TLS handshake, and a
// full pool makes a query wait up to the connect timeout (10 s by default).
const BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const byRegistry = new WeakMap<Registry, PoolInstruments>();

function instruments(registry: Registry): PoolInstruments {
  const existing = byRegistry.get(registry);
  if (existing !== undefined) return existing;
  const pools = new Map<pg.Pool, string>();
  // Read at scrape time from every live pool; pools sharing a label (replicas of a test's pool) add up.
  const gauge = (name: string, help: string, read: (pool: pg.Pool) => number): Gauge<"pool"> =>
    new Gauge({
      name,
      help,
      labelNames: ["pool"],
      registers: [registry],
      collect() {
        this.reset();
        for (const [pool, label] of pools) {
          if (pool.ended) pools.delete(pool);
          else this.inc({ pool: label }, read(pool));
        }
      },
    });
  const made: PoolInstruments = {
    pools,
    connections: gauge(
      "db_pool_connections",
      "Open connections of the pool, idle or in use.",
      (p) => p.totalCount,
    ),
    idle: gauge(
      "db_pool_connections_idle",
      "Open connections of the pool that are idle.",
      (p) => p.idleCount,
    ),
    waiting: gauge(
      "db_pool_waiting_requests",
      "Queries and transactions waiting for a connection of the pool.",
      (p) => p.waitingCount,
    ),
    acquire: new Histogram({
      name: "db_pool_acquire_duration_seconds",
      help: "Time a query or transaction waited for a connection of the pool, in seconds (failed waits included).",
      labelNames: ["pool"],
      buckets: BUCKETS,
      registers: [registry],
    }),
  };
  byRegistry.set(registry, made);
  return made;
}

type ConnectCallback = (
  err: Error | undefined,
  client: pg.PoolClient | undefined,
  done: (release?: unknown) => void,
) => void;

/**
 * Reports `pool` as `db_pool_connections`, `db_pool_connections_idle`, `db_pool_waiting_requests` (gauges read at
 * scrape time) and `db_pool_acquire_duration_seconds` (how long each checkout waited: `pool.query` checks out too),
 * labelled `pool=<label>`, until the pool is ended.
 * @param registry default prom-client's global registry.
 */
export function instrumentPool(pool: pg.Pool, label: string, registry: Registry = register): void {
  const { pools, acquire } = instruments(registry);
  for (const known of pools.keys()) if (known.ended) pools.delete(known);
  pools.set(pool, label);
  const waited = acquire.labels({ pool: label });
  const connect = pool.connect.bind(pool);
  // pg.Pool.connect has a promise form and a callback form (the one pool.query uses); both are timed.
  function timedConnect(): Promise<pg.PoolClient>;
  function timedConnect(callback: ConnectCallback): void;
  function timedConnect(callback?: ConnectCallback): Promise<pg.PoolClient> | undefined {
    const start = performance.now();
    const observe = () => waited.observe((performance.now() - start) / 1000);
    if (callback === undefined) {
      return connect().then(
        (client) => {
          observe();
          return client;
        },
        (err: unknown) => {
          observe();
          throw err;
        },
      );
    }
    connect((err, client, done) => {
      observe();
      callback(err, client, done);
    });
    return undefined;
  }
  pool.connect = timedConnect;
}
