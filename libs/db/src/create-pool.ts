import "./type-parsers.js";
import pg from "pg";
import type { Registry } from "prom-client";
import { instrumentPool } from "./pool-metrics.js";
import { PreparingClient } from "./prepared-statements.js";
import { assertSchemaName } from "./schema-name.js";

/** Options for {@link createPool}. */
export interface CreatePoolOptions {
  /** Postgres connection URL, e.g. `postgres://user@host:5432/db`. */
  url: string;
  /**
   * Schema every connection resolves unqualified names in (`search_path=<schema>` set at connect time, so it
   * also holds for clients checked out later). Must match `^[a-z_][a-z0-9_]{0,62}$`. Default: the server's
   * search_path.
   */
  schema?: string;
  /** Maximum number of connections. Default 10. */
  max?: number;
  /** `application_name` reported in pg_stat_activity. Default: none. */
  applicationName?: string;
  /** Server-side `statement_timeout` in milliseconds for every statement. Default: none (server setting). */
  statementTimeoutMs?: number;
  /**
   * Milliseconds a query waits for a connection (a free one in a full pool, or a new one to an unresponsive
   * server) before it fails with a transient error (see isTransientDbError). Default 10 000; without a bound a
   * full pool or a black-holed server holds every request until the client gives up.
   */
  connectTimeoutMs?: number;
  /**
   * Called when an idle connection fails (server restart, network drop). The pool has already discarded the
   * connection; without a listener Node would crash on the unhandled `error` event. Default: `console.error`
   * of the message.
   */
  onError?: (error: Error) => void;
  /**
   * Run every statement with parameters as a named prepared statement, parsed and planned once per connection
   * (PreparingClient). Default true; false for a connection pooler that cannot keep them (PgBouncer in
   * transaction mode before 1.21, or without max_prepared_statements).
   */
  preparedStatements?: boolean | undefined;
  /**
   * Milliseconds after which a connection is closed (once idle) and replaced. Default 300 000: Postgres keeps a
   * prepared statement's generic plan until something invalidates it (an ANALYZE of its tables, which autovacuum
   * runs as they grow), so a plan chosen while a table was small lasts at most this long where autovacuum is off.
   */
  connectionLifetimeMs?: number | undefined;
  /** Registry of the pool's metrics (see instrumentPool), labelled `pool=<applicationName or schema>`. Default: prom-client's global one. */
  registry?: Registry;
}

/**
 * Creates a `pg.Pool`. Importing `@fintech/db` has already installed the INT8 -> bigint and NUMERIC -> string
 * result parsers; bigint query parameters need nothing (pg sends `value.toString()`).
 *
 * Its size, idle connections, waiting queries and checkout waits are Prometheus metrics (instrumentPool).
 *
 * Defaults: `max` 10, connect timeout 10 s, connections replaced after 5 min, no statement timeout, server
 * search_path when `schema` is omitted, statements with parameters prepared.
 * @throws InvalidSchemaNameError when `schema` is not a plain lower-case identifier.
 */
export function createPool(opts: CreatePoolOptions): pg.Pool {
  let connectionString = opts.url;
  let options: string | undefined;
  if (opts.schema !== undefined) {
    assertSchemaName(opts.schema);
    // The server splits `options` on whitespace; a validated, quoted identifier contains none.
    options = `-c search_path=${pg.escapeIdentifier(opts.schema)}`;
    // pg lets `?options=` in the URL override the `options` config, which would silently drop search_path.
    // Checked by substring first so non-URL connection strings (socket paths) are passed through untouched.
    if (opts.url.includes("options=")) {
      const url = new URL(opts.url);
      const fromUrl = url.searchParams.get("options");
      if (fromUrl !== null) {
        url.searchParams.delete("options");
        connectionString = url.toString();
        options = `${fromUrl} ${options}`;
      }
    }
  }
  const pool = new pg.Pool({
    ...(opts.preparedStatements !== false && { Client: PreparingClient }),
    connectionString,
    max: opts.max ?? 10,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
    maxLifetimeSeconds: (opts.connectionLifetimeMs ?? 300_000) / 1000,
    ...(options !== undefined && { options }),
    ...(opts.applicationName !== undefined && { application_name: opts.applicationName }),
    ...(opts.statementTimeoutMs !== undefined && { statement_timeout: opts.statementTimeoutMs }),
  });
  const onError =
    opts.onError ?? ((error: Error) => console.error(`postgres idle client error: ${error.message}`));
  pool.on("error", (error) => onError(error));
  instrumentPool(pool, opts.applicationName ?? opts.schema ?? "default", opts.registry);
  return pool;
}
