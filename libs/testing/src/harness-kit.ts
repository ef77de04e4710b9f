import type { DescService } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { Principal } from "@fintech/auth";
import { createPool, migrate } from "@fintech/db";
import { ensureStream, eventsMigrationsDir } from "@fintech/events";
import type pg from "pg";
import type { Logger } from "pino";
import pino from "pino";
import { adminQuery } from "./admin-query.js";
import type { NatsFixture } from "./provide-nats.js";
import type { PgFixture } from "./provide-pg.js";
import type { RedisFixture } from "./provide-redis.js";
import type { RecordedLogs } from "./record-logs.js";
import { recordLogs } from "./record-logs.js";
import { TestClock } from "./test-clock.js";
import type { TestTokens } from "./tokens.js";
import { createTestTokens } from "./tokens.js";

/** Where a started server listens: every service's `start()` answers at least this. */
export interface Listening {
  url: string;
  port: number;
}

/** What a service's `build(config, deps)` returns, as far as a harness needs it. */
export interface TestApp<L extends Listening = Listening> {
  start(listen: { port: number; host: string }): Promise<L>;
  stop(): Promise<void>;
}

/**
 * The common part of every service's test harness, over one test file's Postgres schema, NATS namespace and
 * Redis prefix. A harness adds only what is its own: its config, its fakes and its helpers.
 */
export interface HarnessKit {
  readonly pg: PgFixture;
  readonly nats: NatsFixture;
  readonly redis: RedisFixture;
  /** A clock standing still at 2026-03-01T08:00:00Z until a test moves it (`set` it first for another start). */
  readonly clock: TestClock;
  /** This file's signing key: `tokens.authenticator` is what a service under test verifies callers with. */
  readonly tokens: TestTokens;
  /** A logger that writes nothing. */
  readonly logger: Logger;
  /** The deps every service's build() takes: the file's pool and NATS connection, the silent logger, the clock. */
  readonly deps: { pool: pg.Pool; nc: NatsFixture["nc"]; logger: Logger; clock: TestClock };
  /**
   * Where a service's data goes, as the variables every service's config reads: DB_SCHEMA (the file's schema),
   * EVENTS_NAMESPACE, REDIS_PREFIX, DATABASE_URL, NATS_URL and REDIS_URL.
   */
  readonly env: Readonly<Record<string, string>>;
  /**
   * A service's config from its parser over {@link env} plus `vars` (which win), with METRICS_PORT 0 so the
   * metrics server takes any free port.
   */
  config<C extends { METRICS_PORT: number }>(
    parse: (env: Record<string, string | undefined>) => C,
    vars?: Record<string, string>,
  ): C;
  /**
   * Applies libs/events' migrations (outbox, inbox) and `migrations` to `schema` (default the file's), and
   * creates the JetStream stream of each context in `streams` in the file's namespace.
   */
  prepare(opts: {
    migrations: readonly string[];
    streams: readonly string[];
    schema?: string;
  }): Promise<void>;
  /**
   * A schema of its own beside the file's (`<file schema>_<name>`), for a second service in the same file, and a
   * pool bound to it (max `poolMax`, default 5). Both go at teardown.
   */
  schema(name: string, opts?: { poolMax?: number }): Promise<{ schema: string; pool: pg.Pool }>;
  /** Starts `app` on a free loopback port and stops it at teardown. */
  start<L extends Listening>(app: TestApp<L>): Promise<L>;
  /** A Connect client (gRPC protocol) of `service` at `url`, calling as `principal` (anonymously when undefined). */
  client<S extends DescService>(service: S, url: string, principal?: Principal): Client<S>;
  /** A logger named `name` at `level` (default "info") whose lines stay in memory. */
  recordLogs(name: string, level?: string): RecordedLogs;
  /** Adds a teardown step; steps run in reverse order of adding, every one even when an earlier one throws. */
  defer(step: () => unknown): void;
}

/** Opens a {@link HarnessKit}; `close()` runs its teardown steps and rethrows the first that failed. */
export async function openHarnessKit(infra: {
  pg: PgFixture;
  nats: NatsFixture;
  redis: RedisFixture;
}): Promise<HarnessKit & { close(): Promise<void> }> {
  const { pg: db, nats, redis } = infra;
  const steps: Array<() => unknown> = [];
  const logger = pino({ level: "silent" });
  const clock = new TestClock();
  const tokens = await createTestTokens();
  const env = {
    DB_SCHEMA: db.schema,
    EVENTS_NAMESPACE: nats.namespace,
    REDIS_PREFIX: redis.prefix,
    DATABASE_URL: db.url,
    NATS_URL: nats.url,
    REDIS_URL: redis.url,
  };
  const defer = (step: () => unknown) => {
    steps.push(step);
  };
  return {
    pg: db,
    nats,
    redis,
    clock,
    tokens,
    logger,
    deps: { pool: db.pool, nc: nats.nc, logger, clock },
    env,
    config: (parse, vars = {}) => ({ ...parse({ ...env, ...vars }), METRICS_PORT: 0 }),
    async prepare({ migrations, streams, schema = db.schema }) {
      await migrate({ url: db.url, schema, dirs: [eventsMigrationsDir, ...migrations] });
      for (const context of streams) await ensureStream(nats.nc, { context, namespace: nats.namespace });
    },
    async schema(name, opts = {}) {
      const schema = `${db.schema}_${name}`;
      await adminQuery(db.url, `CREATE SCHEMA ${schema}`);
      defer(() => adminQuery(db.url, `DROP SCHEMA IF EXISTS ${schema} CASCADE`));
      const pool = createPool({
        url: db.url,
        schema,
        max: opts.poolMax ?? 5,
        applicationName: `test ${schema}`,
      });
      defer(() => pool.end());
      return { schema, pool };
    },
    async start(app) {
      const at = await app.start({ port: 0, host: "127.0.0.1" });
      defer(() => app.stop());
      return at;
    },
    client: (service, url, principal) =>
      createClient(
        service,
        createGrpcTransport({ baseUrl: url, interceptors: principal ? [tokens.as(principal)] : [] }),
      ),
    recordLogs,
    defer,
    async close() {
      const errors: unknown[] = [];
      for (const step of steps.splice(0).reverse()) {
        try {
          await step();
        } catch (err) {
          errors.push(err);
        }
      }
      if (errors.length > 0) throw errors[0];
    },
  };
}
