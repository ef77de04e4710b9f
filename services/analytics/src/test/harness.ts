import type { MessageInitShape } from "@bufbuild/protobuf";
import { create, toBinary } from "@bufbuild/protobuf";
import type { createClient } from "@connectrpc/connect";
import type { Role } from "@fintech/auth";
import { createPool } from "@fintech/db";
import { CloudEventHeaders, namespacedSubject } from "@fintech/events";
import { parseRate } from "@fintech/money";
import { AnalyticsService } from "@fintech/proto/fintech/analytics/v1/analytics_pb.js";
import { TransactionEventSchema } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import type { TestClock } from "@fintech/testing";
import { serviceTest, testUser, waitFor } from "@fintech/testing";
import type { JetStreamClient } from "@nats-io/jetstream";
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { headers } from "@nats-io/transport-node";
import { Redis } from "ioredis";
import type pg from "pg";
import type { Logger } from "pino";
import { parseAnalyticsConfig } from "../config.js";
import { staticRates } from "../rates.js";
import { build, migrationsDir } from "../server.js";

export interface AnalyticsHarness {
  url: string;
  port: number;
  app: ReturnType<typeof build>;
  clock: TestClock;
  pool: pg.Pool;
  nc: NatsConnection;
  namespace: string;
  js: JetStreamClient;
  /** A Connect client calling as this user (roles default ["user"]). */
  as(userId: string, roles?: Role[]): ReturnType<typeof createClient<typeof AnalyticsService>>;
  /** An access token of this user. */
  token(userId: string, roles?: Role[]): Promise<string>;
  /** Publishes an event on a namespaced stream with the CloudEvents headers the consumers read. */
  publish(type: string, payload: Uint8Array, id: string): Promise<void>;
  /** Publishes a wallet transaction event. */
  publishTransaction(
    type: string,
    event: MessageInitShape<typeof TransactionEventSchema>,
    id: string,
  ): Promise<void>;
  /** The user ids identity knows, as far as imports ask (add one before importing for it). */
  users: Set<string>;
  /** How many events a consumer's inbox holds: count from it before publishing, then wait with `settled`. */
  inbox(consumer: string): Promise<number>;
  /** Waits until a consumer's inbox holds `count` events and every pending batch is applied to Redis. */
  settled(consumer: string, count: number): Promise<void>;
  /**
   * A second replica over the same schema, streams and Redis, with its own pool, started on a free port: what
   * another pod would be. Stop it before the file ends.
   */
  startReplica(): Promise<{ app: ReturnType<typeof build>; stop(): Promise<void> }>;
}

/**
 * The analytics service on a real port over this file's Postgres schema, NATS namespace and Redis prefix, with
 * a test signing key (users' tokens come from `token`/`as`), fixed import rates (1 SGD = 3.50 MYR, 1 USD = 4.70
 * MYR) and the mover only run by hand. Extra env comes from `env`; `options.redisUrl` puts the service on
 * another Redis than the shared one (a test's own server, to empty or restart), `options.logger` replaces the
 * silent logger.
 */
export function analyticsTest(
  env: Record<string, string> = {},
  options: { redisUrl?: string; logger?: Logger } = {},
) {
  return serviceTest("analytics", async (kit): Promise<AnalyticsHarness> => {
    const { pg, nats, redis } = kit;
    const config = kit.config(parseAnalyticsConfig, { ANALYTICS_MOVER_INTERVAL_MS: "86400000", ...env });
    await kit.prepare({ migrations: [migrationsDir], streams: ["wallet", "analytics", "fraud"] });
    const client =
      options.redisUrl === undefined ? redis.client : new Redis(options.redisUrl, { lazyConnect: true });
    if (client !== redis.client) {
      // The test restarts that server: reconnecting is ioredis' job, the errors meanwhile are expected.
      client.on("error", () => undefined);
      await client.connect();
      kit.defer(() => client.disconnect());
    }
    kit.clock.set("2030-01-01T00:00:00Z");
    // Identity stands in as a set: GetUser's answer is all an import needs of it.
    const users = new Set<string>();
    const appDeps = (pool: pg.Pool) => ({
      ...kit.deps,
      pool,
      redis: client,
      logger: options.logger ?? kit.logger,
      rates: staticRates(
        [
          { base: "SGD", quote: "MYR", rate: parseRate("3.50") },
          { base: "USD", quote: "MYR", rate: parseRate("4.70") },
        ],
        "MYR",
      ),
      authenticator: kit.tokens.authenticator,
      users: { exists: async (userId: string) => users.has(userId) },
    });
    const app = build(config, appDeps(pg.pool));
    const { url, port } = await kit.start(app);
    const js = jetstream(nats.nc);
    const publish = async (type: string, payload: Uint8Array, id: string) => {
      const h = headers();
      h.set(CloudEventHeaders.specVersion, "1.0");
      h.set(CloudEventHeaders.id, id);
      h.set(CloudEventHeaders.type, type);
      h.set(CloudEventHeaders.source, type.split(".")[0] ?? "");
      h.set(CloudEventHeaders.time, new Date().toISOString());
      h.set(CloudEventHeaders.contentType, "application/protobuf");
      await js.publish(namespacedSubject(type, nats.namespace), payload, { headers: h });
    };
    return {
      url,
      port,
      app,
      clock: kit.clock,
      pool: pg.pool,
      nc: nats.nc,
      namespace: nats.namespace,
      js,
      as: (userId, roles = ["user"]) => kit.client(AnalyticsService, url, testUser(userId, roles)),
      token: (userId, roles = ["user"]) => kit.tokens.token(testUser(userId, roles)),
      publish,
      users,
      async publishTransaction(type, event, id) {
        await publish(type, toBinary(TransactionEventSchema, create(TransactionEventSchema, event)), id);
      },
      async inbox(consumer) {
        const { rows } = await pg.pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM inbox WHERE consumer = $1",
          [consumer],
        );
        return rows[0]?.n ?? 0;
      },
      async startReplica() {
        const pool = createPool({ url: pg.url, schema: pg.schema, max: 5 });
        const replica = build(config, appDeps(pool));
        await replica.start({ port: 0, host: "127.0.0.1" });
        return {
          app: replica,
          async stop() {
            await replica.stop();
            await pool.end();
          },
        };
      },
      async settled(consumer, count) {
        await waitFor(
          async () => {
            const { rows } = await pg.pool.query<{ inbox: number; pending: number }>(
              `SELECT (SELECT count(*)::int FROM inbox WHERE consumer = $1) AS inbox,
                      (SELECT count(*)::int FROM pending_batches) AS pending`,
              [consumer],
            );
            const r = rows[0];
            return r !== undefined && r.inbox >= count && r.pending === 0;
          },
          { timeoutMs: 15_000 },
        );
      },
    };
  });
}

export { expectRefusal, TestClock } from "@fintech/testing";
