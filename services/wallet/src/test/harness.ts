import { randomBytes } from "node:crypto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { Client, Interceptor, Transport } from "@connectrpc/connect";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { connectIdentity } from "@fintech/auth";
import { createPool } from "@fintech/db";
import { build as buildFraud, migrationsDir as fraudMigrations, parseFraudConfig } from "@fintech/fraud";
import { build as buildFx, migrationsDir as fxMigrations, parseFxConfig } from "@fintech/fx";
import { build as buildGateway, connectGatewayIdentity, parseGatewayConfig } from "@fintech/gateway";
import {
  build as buildIdentity,
  migrationsDir as identityMigrations,
  parseIdentityConfig,
} from "@fintech/identity";
import { build as buildLedger, migrationsDir as ledgerMigrations, parseLedgerConfig } from "@fintech/ledger";
import { createServiceTransport, observeClientCalls, systemClock } from "@fintech/platform";
import type { UpdateRulesRequestSchema } from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import { FraudService } from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import { LedgerService } from "@fintech/proto/fintech/ledger/v1/ledger_pb.js";
import type { StreamEvent } from "@fintech/testing";
import { publishedMessages, serviceTest, waitFor } from "@fintech/testing";
import { Redis } from "ioredis";
import type pg from "pg";
import pino from "pino";
import { expect } from "vitest";
import { connectBackends } from "../backends.js";
import { parseWalletConfig } from "../config.js";
import { build, migrationsDir } from "../server.js";

// The whole platform in this test file's process: identity, ledger, fx, fraud, wallet and the REST gateway,
// each on its own schema beside the file's (the wallet on the file's own), one NATS namespace, real service
// credentials and tokens. Tests talk REST to the gateway, as a client would.

/** A clock at a fixed daytime instant plus the real time since the file started, movable by tests. */
export class TestClock {
  #offset: number;
  constructor(start = "2026-03-02T04:00:00Z") {
    this.#offset = new Date(start).getTime() - Date.now();
  }
  now(): Date {
    return new Date(Date.now() + this.#offset);
  }
  /** Jumps to `at`; time keeps running from there. */
  set(at: Date | string): void {
    this.#offset = new Date(at).getTime() - Date.now();
  }
}

export const ADMIN_EMAIL = "admin@example.com";
export const ADMIN_PASSWORD = "Root pass 42 for tests";
export const PASSWORD = "Correct horse 42 battery";

/** A user signed up through the gateway. */
export interface TestUser {
  id: string;
  email: string;
  token: string;
}

/** A REST answer: status, parsed JSON body (undefined for none) and headers. */
export interface Answer<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

export interface ApiInit {
  token?: string;
  json?: unknown;
  headers?: Record<string, string>;
}

export interface Platform {
  /** The gateway's base URL. */
  url: string;
  /** A REST call through the gateway. */
  api<T = Record<string, unknown>>(method: string, path: string, init?: ApiInit): Promise<Answer<T>>;
  /** Registers and logs in a new user (time zone Asia/Kuala_Lumpur, MYR unless given). */
  signup(opts?: { timezone?: string; currency?: string }): Promise<TestUser>;
  /** Logs the configured admin in. */
  admin(): Promise<TestUser>;
  clock: TestClock;
  /** Fraud as an admin (rules, review decisions). */
  fraudAdmin(): Promise<Client<typeof FraudService>>;
  /** Changes the fraud rules (as the admin). */
  rules(change: MessageInitShape<typeof UpdateRulesRequestSchema>): Promise<void>;
  /** The ledger as the wallet service. */
  ledger: Client<typeof LedgerService>;
  /** Fraud as the wallet service. */
  fraud: Client<typeof FraudService>;
  /** The wallet app (maintain() runs a recovery pass). */
  wallet: ReturnType<typeof build>;
  /**
   * Another wallet replica over the same schema, with a pool of its own and the same backends, unstarted: its
   * maintain() is another replica's recovery pass. Its pool closes with the file.
   */
  walletReplica(): ReturnType<typeof build>;
  /** The wallet's own gRPC port. */
  walletPort: number;
  /** The wallet's pool (its schema). */
  pool: pg.Pool;
  /** How many times the wallet has asked identity about a user (GetUserAccess) since the file started. */
  walletUserLookups: number;
  /** While true, every Score call fails as if fraud were down. */
  fraudDown: boolean;
  /** While true, every call of the wallet to the ledger fails as if the ledger were down. */
  ledgerDown: boolean;
  /**
   * While set, every query of the wallet's pool (not `pool` above) for which it returns true fails as a
   * terminated database connection does (SQLSTATE 57P01), before reaching the database.
   */
  dbFault: ((sql: string) => boolean) | undefined;
  /** While set, a query of the wallet's pool for which it returns a promise waits for it first (a slow statement). */
  dbDelay: ((sql: string) => Promise<void> | undefined) | undefined;
  /** Events written into the wallet's, the ledger's and fraud's outboxes and not published yet. */
  unpublishedEvents(): Promise<number>;
  /** Every event the wallet has published so far, in stream order, once its outbox is empty (publishedMessages). */
  walletEvents(): Promise<StreamEvent[]>;
  /** Asserts that per currency the ledger balances: wallets plus system accounts sum to zero. */
  expectBooksBalance(): Promise<void>;
}

const silent = pino({ level: process.env.WALLET_TEST_LOG ?? "silent" });

/**
 * The platform for this file. `walletEnv`, `ledgerEnv`, `fraudEnv` and `fxEnv` add service variables (e.g.
 * WALLET_DAILY_LIMIT, FX_SPREAD_BPS); `fraudRules` are set (as the admin) before the file's first test.
 */
export function platformTest(
  opts: {
    walletEnv?: Record<string, string>;
    ledgerEnv?: Record<string, string>;
    fraudEnv?: Record<string, string>;
    fxEnv?: Record<string, string>;
    gatewayEnv?: Record<string, string>;
    fraudRules?: MessageInitShape<typeof UpdateRulesRequestSchema>;
  } = {},
) {
  return serviceTest("platform", async (kit): Promise<Platform> => {
    const { pg: db, nats, redis } = kit;
    const suffix = randomBytes(3).toString("hex");
    const namespace = nats.namespace;
    const clock = new TestClock();
    const secrets = {
      gateway: `gateway-${suffix}-0123456789abcdef`,
      wallet: `wallet-${suffix}-0123456789abcdef`,
    };
    // Every stream first: fraud and the wallet consume each other's events from the moment they start.
    await kit.prepare({
      migrations: [migrationsDir],
      streams: ["identity", "ledger", "fx", "fraud", "wallet"],
    });

    // identity: real time (tokens are checked against the wall clock everywhere).
    const identityDb = await kit.schema("identity");
    const identityConfig = kit.config(parseIdentityConfig, {
      DB_SCHEMA: identityDb.schema,
      ADMIN_EMAIL,
      ADMIN_PASSWORD,
      SERVICE_CREDENTIALS: `gateway:${secrets.gateway},wallet:${secrets.wallet}`,
    });
    await kit.prepare({ schema: identityDb.schema, migrations: [identityMigrations], streams: [] });
    const identityAt = await kit.start(
      buildIdentity(identityConfig, {
        pool: identityDb.pool,
        nc: nats.nc,
        logger: silent,
        clock: systemClock,
      }),
    );
    const verifier = () =>
      connectIdentity(
        {
          IDENTITY_URL: identityAt.url,
          JWT_ISSUER: identityConfig.JWT_ISSUER,
          JWT_AUDIENCE: identityConfig.JWT_AUDIENCE,
          SERVICE_CLIENT_ID: "none",
          SERVICE_CLIENT_SECRET: "",
          API_KEY_CACHE_TTL_MS: 0,
        },
        { logger: silent },
      ).authenticator;

    const ledgerDb = await kit.schema("ledger", { poolMax: 8 });
    const ledgerConfig = kit.config(parseLedgerConfig, {
      DB_SCHEMA: ledgerDb.schema,
      LEDGER_INTEGRITY_INTERVAL_SECONDS: "0",
      ...opts.ledgerEnv,
    });
    await kit.prepare({ schema: ledgerDb.schema, migrations: [ledgerMigrations], streams: [] });
    const ledgerAt = await kit.start(
      buildLedger(ledgerConfig, {
        pool: ledgerDb.pool,
        nc: nats.nc,
        logger: silent,
        clock: systemClock,
        authenticator: verifier(),
      }),
    );

    const fxDb = await kit.schema("fx");
    const fxConfig = kit.config(parseFxConfig, {
      DB_SCHEMA: fxDb.schema,
      FX_RATE_CACHE_TTL_MS: "0",
      ...opts.fxEnv,
    });
    await kit.prepare({ schema: fxDb.schema, migrations: [fxMigrations], streams: [] });
    const fx = buildFx(fxConfig, {
      pool: fxDb.pool,
      nc: nats.nc,
      logger: silent,
      clock,
      authenticator: verifier(),
    });
    await fx.service.seed(fxConfig.FX_SEED_RATES);
    const fxAt = await kit.start(fx);

    const fraudDb = await kit.schema("fraud");
    const fraudConfig = kit.config(parseFraudConfig, {
      DB_SCHEMA: fraudDb.schema,
      REDIS_PREFIX: `${redis.prefix}fraud:`,
      FRAUD_RULES_CACHE_TTL_MS: "0",
      FRAUD_PRUNE_INTERVAL_MS: "0",
      ...opts.fraudEnv,
    });
    await kit.prepare({ schema: fraudDb.schema, migrations: [fraudMigrations], streams: [] });
    const redisClient = new Redis(redis.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      lazyConnect: true,
    });
    redisClient.on("error", () => {});
    await redisClient.connect();
    kit.defer(() => redisClient.disconnect());
    const fraudAt = await kit.start(
      buildFraud(fraudConfig, {
        pool: fraudDb.pool,
        nc: nats.nc,
        redis: redisClient,
        logger: silent,
        clock,
        authenticator: verifier(),
      }),
    );

    // The wallet, on the file's own schema, calling everyone as itself.
    const walletConfig = kit.config(parseWalletConfig, {
      IDENTITY_URL: identityAt.url,
      LEDGER_URL: ledgerAt.url,
      FX_URL: fxAt.url,
      FRAUD_URL: fraudAt.url,
      SERVICE_CLIENT_SECRET: secrets.wallet,
      WALLET_RECOVERY_INTERVAL_MS: "0",
      WALLET_CURRENCY_CACHE_TTL_MS: "0",
      ...opts.walletEnv,
    });
    // As main.ts does: identity's events apply a suspension or role change at once. Its questions about users
    // are counted.
    const countUserLookups: Interceptor = (next) => async (req) => {
      if (req.method.name === "GetUserAccess") platform.walletUserLookups++;
      return next(req);
    };
    const { authenticator, credentials } = connectIdentity(walletConfig, {
      logger: silent,
      events: { nc: nats.nc, namespace },
      transport: (url, interceptors) =>
        createServiceTransport(url, {
          name: "identity",
          interceptors: [observeClientCalls, countUserLookups, ...interceptors],
        }),
    });
    const asWallet: Interceptor[] = credentials === undefined ? [] : [credentials.interceptor];
    const platform = {
      walletUserLookups: 0,
      fraudDown: false,
      ledgerDown: false,
      dbFault: undefined,
      dbDelay: undefined,
    } as Platform;
    const fraudSwitch: Interceptor = (next) => async (req) => {
      if (platform.fraudDown) throw new ConnectError("fraud is down (test)", Code.Unavailable);
      return next(req);
    };
    const ledgerSwitch: Interceptor = (next) => async (req) => {
      if (platform.ledgerDown) throw new ConnectError("ledger is down (test)", Code.Unavailable);
      return next(req);
    };
    const fraudTransport: Transport = createConnectTransport({
      baseUrl: fraudAt.url,
      httpVersion: "2",
      useBinaryFormat: true,
      interceptors: [fraudSwitch, ...asWallet],
    });
    const ledgerTransport: Transport = createConnectTransport({
      baseUrl: ledgerAt.url,
      httpVersion: "2",
      useBinaryFormat: true,
      interceptors: [ledgerSwitch, ...asWallet],
    });
    const backends = connectBackends(walletConfig, asWallet, {
      fraud: fraudTransport,
      ledger: ledgerTransport,
    });
    const walletPool = createPool({ url: db.url, schema: db.schema, max: 10 });
    kit.defer(() => walletPool.end());
    // The wallet's queries pass dbFault first: a test fails chosen statements as a database going away
    // mid-request would, deterministically.
    const query = walletPool.query.bind(walletPool) as (
      text: string,
      values?: unknown[],
    ) => Promise<pg.QueryResult>;
    const faultyPool = new Proxy(walletPool, {
      get(target, prop, receiver) {
        if (prop !== "query") return Reflect.get(target, prop, receiver);
        return async (text: string, values?: unknown[]) => {
          await platform.dbDelay?.(text);
          if (platform.dbFault?.(text)) {
            throw Object.assign(new Error("terminating connection due to administrator command (test)"), {
              code: "57P01",
            });
          }
          return query(text, values);
        };
      },
    });
    const wallet = build(walletConfig, {
      pool: faultyPool,
      nc: nats.nc,
      logger: silent,
      clock,
      authenticator,
      backends,
    });
    const walletAt = await kit.start(wallet);

    const gatewayVars = {
      BACKENDS: "identity,wallet,fx,fraud",
      IDENTITY_URL: identityAt.url,
      WALLET_URL: walletAt.url,
      FX_URL: fxAt.url,
      FRAUD_URL: fraudAt.url,
      SERVICE_CLIENT_SECRET: secrets.gateway,
      RATE_LIMIT_PREFIX: `${redis.prefix}rl:`,
      RATE_LIMIT_RPS: "100000",
      RATE_LIMIT_BURST: "100000",
      ...opts.gatewayEnv,
    };
    const gatewayConfig = { ...parseGatewayConfig(gatewayVars), METRICS_PORT: 0 };
    // As start.ts does: the gateway's own token goes with each call, so backends believe its client address.
    const gatewayIdentity = connectGatewayIdentity(gatewayConfig, { logger: silent });
    const gatewayAt = await kit.start(
      buildGateway(gatewayConfig, {
        redis: redis.client,
        logger: silent,
        authenticator: gatewayIdentity.authenticator,
        forwarder: gatewayIdentity.credentials,
        userAccess: gatewayIdentity.userAccess,
      }),
    );

    const api = async <T>(method: string, path: string, init: ApiInit = {}): Promise<Answer<T>> => {
      const headers = new Headers(init.headers);
      if (init.token !== undefined) headers.set("authorization", `Bearer ${init.token}`);
      if (init.json !== undefined) headers.set("content-type", "application/json");
      const res = await fetch(`${gatewayAt.url}${path}`, {
        method,
        headers,
        ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
      });
      const text = await res.text();
      return {
        status: res.status,
        body: (text === "" ? undefined : JSON.parse(text)) as T,
        headers: res.headers,
      };
    };
    const login = async (email: string, password: string): Promise<string> => {
      const res = await api<{ access_token: string }>("POST", "/api/v1/auth/login", {
        json: { email, password },
      });
      expect(res.status).toBe(200);
      return res.body.access_token;
    };
    let adminUser: TestUser | undefined;
    const admin = async (): Promise<TestUser> => {
      if (adminUser !== undefined) return adminUser;
      const token = await login(ADMIN_EMAIL, ADMIN_PASSWORD);
      const me = await api<{ id: string }>("GET", "/api/v1/users/me", { token });
      adminUser = { id: me.body.id, email: ADMIN_EMAIL, token };
      return adminUser;
    };
    const fraudAdmin = async () => {
      const { token } = await admin();
      return createClient(
        FraudService,
        createConnectTransport({
          baseUrl: fraudAt.url,
          httpVersion: "2",
          interceptors: [
            (next) => async (req) => {
              req.header.set("authorization", `Bearer ${token}`);
              return next(req);
            },
          ],
        }),
      );
    };
    let users = 0;
    Object.assign(platform, {
      url: gatewayAt.url,
      api,
      clock,
      wallet,
      walletReplica() {
        const pool = createPool({ url: db.url, schema: db.schema, max: 5 });
        kit.defer(() => pool.end());
        return build(walletConfig, { pool, nc: nats.nc, logger: silent, clock, authenticator, backends });
      },
      walletPort: walletAt.port,
      pool: walletPool,
      ledger: createClient(
        LedgerService,
        createConnectTransport({
          baseUrl: ledgerAt.url,
          httpVersion: "2",
          interceptors: asWallet,
        }),
      ),
      fraud: createClient(
        FraudService,
        createConnectTransport({
          baseUrl: fraudAt.url,
          httpVersion: "2",
          interceptors: asWallet,
        }),
      ),
      admin,
      fraudAdmin,
      async rules(change) {
        await (await fraudAdmin()).updateRules(change);
      },
      async signup(o = {}) {
        const email = `user${++users}-${suffix}@example.com`;
        const reg = await api<{ id: string }>("POST", "/api/v1/auth/register", {
          json: {
            email,
            password: PASSWORD,
            full_name: `User ${users}`,
            timezone: o.timezone ?? "Asia/Kuala_Lumpur",
            default_currency: o.currency ?? "MYR",
          },
        });
        expect(reg.status).toBe(201);
        return { id: reg.body.id, email, token: await login(email, PASSWORD) };
      },
      async unpublishedEvents() {
        let n = 0;
        for (const pool of [walletPool, ledgerDb.pool, fraudDb.pool]) {
          const { rows } = await pool.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL",
          );
          n += rows[0]?.n ?? 0;
        }
        return n;
      },
      walletEvents: () => publishedMessages(nats.nc, walletPool, namespace, "wallet"),
      async expectBooksBalance() {
        const report = await platform.ledger.checkIntegrity({});
        expect(report.violations).toEqual([]);
        expect(report.ok).toBe(true);
        for (const t of report.totals) {
          expect({ currency: t.currency, debits: t.debitsPosted, pending: t.debitsPending }).toEqual({
            currency: t.currency,
            debits: t.creditsPosted,
            pending: t.creditsPending,
          });
        }
      },
    } satisfies Omit<Platform, "walletUserLookups" | "fraudDown" | "ledgerDown" | "dbFault" | "dbDelay">);
    if (opts.fraudRules !== undefined) await platform.rules(opts.fraudRules);
    return platform;
  });
}

/** The default wallet of a user, once it exists. */
export async function defaultWallet(
  p: Platform,
  user: TestUser,
): Promise<{
  id: string;
  currency: string;
  balance: { available: string; pending: string; posted: string };
}> {
  return waitFor(async () => {
    const res = await p.api<{
      data: Array<{
        id: string;
        currency: string;
        is_default: boolean;
        balance: { available: string; pending: string; posted: string };
      }>;
    }>("GET", "/api/v1/wallets", { token: user.token });
    return res.body.data.find((w) => w.is_default);
  });
}

/** A wallet's balance through the gateway. */
export async function balanceOf(
  p: Platform,
  user: TestUser,
  walletId: string,
): Promise<{ available: string; pending: string; posted: string; incoming: string }> {
  const res = await p.api<{ available: string; pending: string; posted: string; incoming: string }>(
    "GET",
    `/api/v1/wallets/${walletId}/balance`,
    { token: user.token },
  );
  expect(res.status).toBe(200);
  return res.body;
}

/** Tops a wallet up through the gateway and returns the transaction. */
export async function fund(
  p: Platform,
  user: TestUser,
  walletId: string,
  amount: string,
): Promise<Transaction> {
  const res = await p.api<Transaction>("POST", `/api/v1/wallets/${walletId}/fund`, {
    token: user.token,
    json: { amount, source: "visa" },
  });
  expect(res.status).toBe(201);
  return res.body;
}

/** A transaction as REST renders it (the fields tests read). */
export interface Transaction {
  transaction_id: string;
  user_id: string;
  wallet_id: string;
  amount: string;
  currency: string;
  transaction_type: string;
  status: string;
  fraud_score: number;
  fraud_flags: string[];
  fraud_decision: string;
  refunded_amount: string;
  original_transaction_id: string;
  charged_amount: string;
  charged_currency: string;
  /** Left out when no currencies were converted. */
  rate?: string;
  to_wallet_id: string;
  /** Transfers and conversions only. */
  to_amount?: string;
  to_currency: string;
  /** Transfers and conversions across currencies only. */
  spread_amount?: string;
  quote_id: string;
  direction: string;
  related_transaction_id: string;
  failure_reason: string;
  base_amount: string;
  merchant_name: string;
  merchant_category: string;
  description: string;
  tags: string[];
  created_at: string;
  updated_at: string;
}

/** The error body every failure has (docs/api.md). */
export interface ErrorBody {
  error: string;
  message: string;
  details: Record<string, string>;
  request_id: string;
  timestamp: string;
  path: string;
}
