import { randomUUID } from "node:crypto";
import type { DescMessage, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import type { Principal } from "@fintech/auth";
import { createPool } from "@fintech/db";
import { CloudEventHeaders, namespacedSubject, PROTOBUF_CONTENT_TYPE, streamName } from "@fintech/events";
import type { ScoreRequestSchema } from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import { FraudService } from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import {
  TransactionEventSchema,
  TransactionStatus,
  TransactionType,
} from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import type { PgFixture, TestClock } from "@fintech/testing";
import { serviceTest, testAdmin, testService, testUser, waitFor } from "@fintech/testing";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { headers } from "@nats-io/transport-node";
import { Redis } from "ioredis";
import { parseFraudConfig } from "../config.js";
import { fraudMetrics } from "../metrics.js";
import { build, migrationsDir } from "../server.js";

/**
 * The principal a test names as "admin:<id>", "user:<id>" or "service:<name>" ("" is anonymous: undefined).
 */
export function principalOf(caller: string): Principal | undefined {
  const [kind, name = ""] = caller.split(/:(.*)/s);
  if (kind === "service") return testService(name);
  if (kind === "admin") return testAdmin(name);
  if (kind === "user") return testUser(name);
  return undefined;
}

// The object-literal half of protobuf-es's init types, which spreads and merges as plain objects do.
type Init<D extends DescMessage> = Exclude<MessageInitShape<D>, MessageShape<D>>;

export type WalletEventInit = Init<typeof TransactionEventSchema>;
export type ScoreRequestInit = Init<typeof ScoreRequestSchema>;

/**
 * Publishes a wallet.transaction.created event the way the wallet's outbox relay does (CloudEvents headers,
 * Nats-Msg-Id). `eventId` defaults to a new id; `msgId` (the JetStream dedupe id) defaults to a fresh one, so
 * the same event id can be delivered twice, as a redelivery would.
 */
export async function publishWalletEvent(
  nc: NatsConnection,
  namespace: string,
  event: WalletEventInit,
  opts: { eventId?: string; msgId?: string } = {},
): Promise<string> {
  const id = opts.eventId ?? randomUUID();
  const h = headers();
  h.set(CloudEventHeaders.specVersion, "1.0");
  h.set(CloudEventHeaders.id, id);
  h.set(CloudEventHeaders.type, "wallet.transaction.created");
  h.set(CloudEventHeaders.source, "wallet");
  h.set(CloudEventHeaders.time, new Date().toISOString());
  h.set(CloudEventHeaders.contentType, PROTOBUF_CONTENT_TYPE);
  await jetstream(nc).publish(
    namespacedSubject("wallet.transaction.created", namespace),
    toBinary(TransactionEventSchema, create(TransactionEventSchema, event)),
    { msgID: opts.msgId ?? randomUUID(), headers: h },
  );
  return id;
}

/** A purchase of `amount` MYR at `at` by `userId`, as wallet.transaction.created carries it. */
export function purchase(
  userId: string,
  at: Date,
  amount = "10.00",
  more: Partial<WalletEventInit> = {},
): WalletEventInit & { transactionId: string } {
  return {
    transactionId: randomUUID(),
    userId,
    walletId: randomUUID(),
    type: TransactionType.PURCHASE,
    status: TransactionStatus.PENDING,
    amount: { currency: "MYR", amount },
    baseAmount: { currency: "MYR", amount },
    merchantName: "Kedai Kopi",
    merchantCategory: "food_beverage",
    timezone: "Asia/Kuala_Lumpur",
    createdAt: timestampFromDate(at),
    occurredAt: timestampFromDate(at),
    ...more,
  };
}

/** A Score request for a purchase of `amount` MYR at `at`. */
export function scoreRequest(
  userId: string,
  at: Date,
  amount = "10.00",
  more: Partial<ScoreRequestInit> = {},
): ScoreRequestInit {
  return {
    transactionId: randomUUID(),
    userId,
    type: TransactionType.PURCHASE,
    amount: { currency: "MYR", amount },
    baseAmount: { currency: "MYR", amount },
    merchantName: "Kedai Kopi",
    merchantCategory: "food_beverage",
    timezone: "Asia/Kuala_Lumpur",
    occurredAt: timestampFromDate(at),
    ...more,
  };
}

export interface FraudHarness {
  url: string;
  port: number;
  /** A Connect (gRPC protocol) client calling as "admin:<id>", "user:<id>", "service:<name>" or "" (anonymous). */
  as(caller: string): Client<typeof FraudService>;
  /** An access token for such a caller ("Bearer " not included). */
  token(caller: string): Promise<string>;
  /** Calls as the admin "analyst-1". */
  admin: Client<typeof FraudService>;
  /** Calls as the wallet service. */
  wallet: Client<typeof FraudService>;
  clock: TestClock;
  app: ReturnType<typeof build>;
  pg: PgFixture;
  nc: NatsConnection;
  namespace: string;
  /** The Redis client the service uses (keys under `prefix`). */
  redis: Redis;
  prefix: string;
  /** Publishes wallet.transaction.created events and waits until the consumer has recorded each. */
  feed(...events: WalletEventInit[]): Promise<void>;
  /**
   * A second replica over the same schema, stream and Redis, with its own pool, started on a free port: what another
   * pod would be. Stop it before the file ends.
   */
  startReplica(): Promise<{ app: ReturnType<typeof build>; stop(): Promise<void> }>;
  score(req: ScoreRequestInit): ReturnType<Client<typeof FraudService>["score"]>;
}

/** Waits until the feature consumer has recorded `transactionId`. */
export async function consumed(pg: PgFixture, transactionId: string): Promise<void> {
  await waitFor(async () => {
    const { rowCount } = await pg.pool.query("SELECT 1 FROM user_transactions WHERE transaction_id = $1", [
      transactionId,
    ]);
    return rowCount === 1;
  });
}

/**
 * The fraud service on a real port over this file's Postgres schema, NATS namespace and Redis prefix, with a
 * test clock and the test authenticator. `redisUrl` points the service at another Redis (e.g. a dead port).
 */
export function fraudTest(opts: { env?: Record<string, string>; redisUrl?: string } = {}) {
  return serviceTest("fraud", async (kit): Promise<FraudHarness> => {
    const { pg, nats, redis } = kit;
    const config = kit.config(parseFraudConfig, {
      FRAUD_RULES_CACHE_TTL_MS: "0",
      FRAUD_PRUNE_INTERVAL_MS: "0",
      ...opts.env,
    });
    await kit.prepare({ migrations: [migrationsDir], streams: ["fraud", "wallet"] });
    const client = new Redis(opts.redisUrl ?? redis.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      lazyConnect: true,
    });
    client.on("error", () => {});
    await client.connect().catch(() => {});
    kit.defer(() => client.disconnect());
    kit.clock.set("2026-03-02T03:00:00Z");
    const app = build(config, { ...kit.deps, redis: client, authenticator: kit.tokens.authenticator });
    const { url, port } = await kit.start(app);
    const as = (caller: string) => kit.client(FraudService, url, principalOf(caller));
    const wallet = as("service:wallet");
    return {
      url,
      port,
      as,
      token: async (caller) => {
        const p = principalOf(caller);
        if (!p) throw new Error(`no token for an anonymous caller`);
        return kit.tokens.token(p);
      },
      admin: as("admin:analyst-1"),
      wallet,
      clock: kit.clock,
      app,
      pg,
      nc: nats.nc,
      namespace: nats.namespace,
      redis: client,
      prefix: redis.prefix,
      async feed(...events) {
        for (const e of events) await publishWalletEvent(nats.nc, nats.namespace, e);
        for (const e of events) await consumed(pg, e.transactionId ?? "");
      },
      score: (req) => wallet.score(req),
      async startReplica() {
        const pool = createPool({ url: pg.url, schema: pg.schema, max: 5 });
        const replica = build(config, {
          ...kit.deps,
          pool,
          redis: client,
          authenticator: kit.tokens.authenticator,
        });
        await replica.start({ port: 0, host: "127.0.0.1" });
        return {
          app: replica,
          async stop() {
            await replica.stop();
            await pool.end();
          },
        };
      },
    };
  });
}

/** The rule names of a score's flags, sorted. */
export const rulesOf = (res: { flags: Array<{ rule: string }> }) => res.flags.map((f) => f.rule).sort();

/** How many scores read their windows from Postgres so far, for `reason` (redis_error, redis_stale). */
export async function featureFallbacks(reason: string): Promise<number> {
  const { values } = await fraudMetrics().featureFallback.get();
  return values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

/** `minutes` before `at`. */
export const minutesBefore = (at: Date, minutes: number) => new Date(at.getTime() - minutes * 60_000);

/**
 * Waits until the fraud stream holds an event of `type` whose decoded payload satisfies `match`, and returns
 * every such event (so a test can also tell that there is exactly one).
 */
export async function publishedEvents<D extends DescMessage>(
  h: Pick<FraudHarness, "nc" | "namespace">,
  type: string,
  schema: D,
  match: (m: MessageShape<D>) => boolean,
): Promise<MessageShape<D>[]> {
  const jsm = await jetstreamManager(h.nc);
  const stream = streamName("fraud", h.namespace);
  const subject = namespacedSubject(type, h.namespace);
  return waitFor(async () => {
    const { state } = await jsm.streams.info(stream);
    const found: MessageShape<D>[] = [];
    for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
      const m = await jsm.streams.getMessage(stream, { seq });
      if (m?.subject !== subject) continue;
      const message = fromBinary(schema, m.data);
      if (match(message)) found.push(message);
    }
    return found.length > 0 && found;
  });
}

export { expectRefusal, TestClock } from "@fintech/testing";
