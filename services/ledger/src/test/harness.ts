import { randomUUID } from "node:crypto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { Client, Interceptor } from "@connectrpc/connect";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { Authenticator, Principal } from "@fintech/auth";
import { rememberBearer } from "@fintech/auth";
import { createPool } from "@fintech/db";
import type { Account, NewTransferSchema } from "@fintech/proto/fintech/ledger/v1/ledger_pb.js";
import { AccountKind, LedgerService } from "@fintech/proto/fintech/ledger/v1/ledger_pb.js";
import type { TestClock, TestTokens } from "@fintech/testing";
import { publishedMessages, serviceTest, testService } from "@fintech/testing";
import type { NatsConnection } from "@nats-io/transport-node";
import type pg from "pg";
import pino from "pino";
import type { LedgerConfig } from "../config.js";
import { parseLedgerConfig } from "../config.js";
import { build, migrationsDir } from "../server.js";

export type LedgerClient = Client<typeof LedgerService>;

/** A Connect client (gRPC protocol) of the ledger at `url` calling with `token` (none when undefined). */
export function ledgerClient(url: string, token: string | undefined): LedgerClient {
  const bearer: Interceptor = (next) => async (req) => {
    if (token !== undefined) req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
  return createClient(LedgerService, createGrpcTransport({ baseUrl: url, interceptors: [bearer] }));
}

/** The production authenticator's shape (real JWT verification, accepted tokens remembered) over `tokens`' key. */
export function ledgerAuthenticator(tokens: TestTokens): Authenticator {
  return rememberBearer(tokens.authenticator);
}

export interface LedgerHarness {
  url: string;
  port: number;
  /** Calls as the service "wallet". */
  client: LedgerClient;
  clock: TestClock;
  app: ReturnType<typeof build>;
  config: LedgerConfig;
  pool: pg.Pool;
  nc: NatsConnection;
  namespace: string;
  /** Database URL and schema, for child processes. */
  databaseUrl: string;
  schema: string;
  natsUrl: string;
  /** The key this file's ledgers trust (its public JWK goes to child processes). */
  tokens: TestTokens;
  /** An access token for `principal` that this file's ledgers accept. */
  token(principal: Principal): Promise<string>;
}

/**
 * The ledger on a real port, over this file's Postgres schema and NATS namespace, with real service-token
 * auth. The expiry sweeper and the scheduled integrity check do not run on their own (tests call runOnce and
 * CheckIntegrity). Extra env comes from the file.
 */
export function ledgerTest(env: Record<string, string> = {}) {
  return serviceTest("ledger", async (kit): Promise<LedgerHarness> => {
    const config = kit.config(parseLedgerConfig, {
      LEDGER_INTEGRITY_INTERVAL_SECONDS: "0",
      LEDGER_EXPIRY_INTERVAL_MS: "3600000",
      ...env,
    });
    await kit.prepare({ migrations: [migrationsDir], streams: ["ledger"] });
    const app = build(config, { ...kit.deps, authenticator: ledgerAuthenticator(kit.tokens) });
    const { url, port } = await kit.start(app);
    return {
      url,
      port,
      client: ledgerClient(url, await kit.tokens.token(testService("wallet"))),
      clock: kit.clock,
      app,
      config,
      pool: kit.pg.pool,
      nc: kit.nats.nc,
      namespace: kit.nats.namespace,
      databaseUrl: kit.pg.url,
      schema: kit.pg.schema,
      natsUrl: kit.nats.url,
      tokens: kit.tokens,
      token: (principal) => kit.tokens.token(principal),
    };
  });
}

/** Opens a MYR account (by default one that cannot go below zero) and returns it. */
export async function openAccount(
  client: LedgerClient,
  opts: { currency?: string; limited?: boolean; creditLimited?: boolean } = {},
): Promise<Account> {
  const res = await client.createAccount({
    currency: opts.currency ?? "MYR",
    flags: {
      debitsMustNotExceedCredits: opts.limited ?? true,
      creditsMustNotExceedDebits: opts.creditLimited ?? false,
    },
  });
  if (!res.account) throw new Error("no account");
  return res.account;
}

/** The settlement account of a currency: the outside world, unlimited. */
export async function settlement(client: LedgerClient, currency = "MYR"): Promise<Account> {
  const { account } = await client.getSystemAccount({ kind: AccountKind.SETTLEMENT, currency });
  if (!account) throw new Error("no settlement account");
  return account;
}

export type NewTransferInit = MessageInitShape<typeof NewTransferSchema>;

/** A single-phase MYR transfer with a fresh id. */
export function move(
  from: Account,
  to: Account,
  amount: string,
  extra: NewTransferInit = {},
): NewTransferInit {
  return {
    id: randomUUID(),
    debitAccountId: from.id,
    creditAccountId: to.id,
    amount,
    currency: from.currency,
    ...extra,
  };
}

/** Funds `account` with `amount` from the settlement account. */
export async function fund(client: LedgerClient, account: Account, amount: string): Promise<void> {
  await client.createTransfer({
    transfer: move(await settlement(client, account.currency), account, amount),
  });
}

/**
 * A second ledger replica over the same schema and stream, with its own pool (and `config` changes): what
 * another pod would be; `wrapPool` may stand between it and its pool. Stop it before the file ends.
 */
export async function startReplica(
  h: LedgerHarness,
  config: Partial<LedgerConfig> = {},
  wrapPool: (pool: pg.Pool) => pg.Pool = (pool) => pool,
): Promise<{ url: string; client: LedgerClient; app: ReturnType<typeof build>; stop(): Promise<void> }> {
  const pool = createPool({ url: h.databaseUrl, schema: h.schema, max: 5 });
  const app = build(
    { ...h.config, ...config },
    {
      pool: wrapPool(pool),
      nc: h.nc,
      logger: pino({ level: "silent" }),
      clock: h.clock,
      authenticator: ledgerAuthenticator(h.tokens),
    },
  );
  const { url } = await app.start({ port: 0, host: "127.0.0.1" });
  return {
    url,
    client: ledgerClient(url, await h.token(testService("wallet"))),
    app,
    async stop() {
      await app.stop();
      await pool.end();
    },
  };
}

export { expectRefusal, TestClock } from "@fintech/testing";

/** How many events whose type starts with `prefix` the ledger has published so far (publishedMessages). */
export async function publishedCount(
  h: Pick<LedgerHarness, "nc" | "pool" | "namespace">,
  prefix: string,
): Promise<number> {
  const events = await publishedMessages(h.nc, h.pool, h.namespace, "ledger");
  return events.filter((e) => e.type.startsWith(prefix)).length;
}
