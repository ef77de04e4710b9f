import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Authenticator } from "@fintech/auth";
import { createAuthInterceptor, defineAccess } from "@fintech/auth";
import type { EventConsumer } from "@fintech/events";
import { createConsumer, createOutboxRelay, eventHandler, relaySettings } from "@fintech/events";
import { parseAmount } from "@fintech/money";
import type { Clock, ListenOptions, ListenResult } from "@fintech/platform";
import { createReadiness, createServer } from "@fintech/platform";
import { ReviewDecidedSchema } from "@fintech/proto/fintech/fraud/v1/events_pb.js";
import { ReviewDecision } from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import { file_fintech_wallet_v1_events } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import { WalletService } from "@fintech/proto/fintech/wallet/v1/wallet_pb.js";
import type { NatsConnection } from "@nats-io/transport-node";
import type pg from "pg";
import type { Logger } from "pino";
import type { Backends } from "./backends.js";
import type { WalletConfig } from "./config.js";
import { toConnectError } from "./errors.js";
import { createIdempotency } from "./idempotency.js";
import { walletRoutes } from "./routes.js";
import { walletValidation } from "./validation.js";
import { createWalletService } from "./wallet-service.js";

/** The wallet service's SQL migrations. */
export const migrationsDir = join(dirname(fileURLToPath(import.meta.url)), "..", "migrations");

/** Durable consumer name (and inbox `consumer`) of the fraud review decisions consumer. */
export const REVIEWS_CONSUMER = "wallet-fraud-reviews";

export interface WalletDeps {
  pool: pg.Pool;
  nc: NatsConnection;
  logger: Logger;
  clock: Clock;
  /** Verifies every caller (connectIdentity's in production). */
  authenticator: Authenticator;
  /** The ledger, fx, fraud and identity, called as this service (connectBackends). */
  backends: Backends;
}

/**
 * Builds the wallet service, unstarted: its gRPC server, outbox relay, the consumers of identity's user
 * events and fraud's review decisions, and the recovery pass. Migrations and the event streams (wallet's,
 * identity's, fraud's) are the caller's (main.ts, or a test's fixtures).
 */
export function build(config: WalletConfig, deps: WalletDeps) {
  const { pool, nc, logger, clock, authenticator, backends } = deps;
  const base = config.BASE_CURRENCY;
  const idempotency = createIdempotency({
    pool,
    clock,
    logger,
    settings: {
      ttlMs: config.WALLET_IDEMPOTENCY_TTL_HOURS * 3_600_000,
      waitMs: config.WALLET_IDEMPOTENCY_WAIT_MS,
    },
  });
  const wallets = createWalletService({
    pool,
    backends,
    idempotency,
    clock,
    logger,
    settings: {
      baseCurrency: base,
      maxTransaction: parseAmount(config.WALLET_MAX_TRANSACTION, base),
      dailyLimit: parseAmount(config.WALLET_DAILY_LIMIT, base),
      leaseMs: config.WALLET_RECOVERY_AFTER_MS,
      currencyCacheTtlMs: config.WALLET_CURRENCY_CACHE_TTL_MS,
      userCacheTtlMs: config.WALLET_USER_CACHE_TTL_MS,
      fraud: { fraudTimeoutMs: config.FRAUD_TIMEOUT_MS, unavailablePolicy: config.FRAUD_UNAVAILABLE_POLICY },
    },
  });
  const server = createServer({
    name: "wallet",
    routes: walletRoutes({ wallets, idempotency }),
    files: [file_fintech_wallet_v1_events],
    logger,
    mapError: toConnectError,
    interceptors: [createAuthInterceptor({ authenticator }), walletAccess, walletValidation],
    metricsPort: config.METRICS_PORT,
    reflection: config.GRPC_REFLECTION,
    maxConnectionAgeMs: config.MAX_CONNECTION_AGE_MS,
    readiness: createReadiness({ db: pool, nats: nc }),
  });
  const relay = createOutboxRelay({
    pool,
    nc,
    source: "wallet",
    logger,
    ...relaySettings(config),
  });
  const consumers: EventConsumer[] = [
    wallets.users.consumer({ nc, namespace: config.EVENTS_NAMESPACE, logger }),
    createConsumer({
      pool,
      nc,
      context: "fraud",
      durable: REVIEWS_CONSUMER,
      filterSubject: "fraud.review.decided",
      namespace: config.EVENTS_NAMESPACE,
      logger,
      // A decision can beat the hold's own request by a moment: retry soon.
      backoffMs: [200, 1000, 5000, 30000],
      handlers: {
        "fraud.review.decided": eventHandler(ReviewDecidedSchema, async (event) => {
          const { transactionId, decision } = event.message;
          if (decision !== ReviewDecision.APPROVE && decision !== ReviewDecision.REJECT) return;
          const t = await wallets.processor.decide(
            transactionId.toLowerCase(),
            decision === ReviewDecision.APPROVE,
          );
          if (t === undefined)
            logger.warn({ transaction_id: transactionId }, "review decided for an unknown transaction");
        }),
      },
    }),
  ];
  let recovery: NodeJS.Timeout | undefined;
  let passing: Promise<unknown> | undefined;
  let unfollow: (() => void) | undefined;

  /** One recovery pass (unfinished transactions) and a purge of expired idempotency keys. */
  async function maintain(): Promise<void> {
    await wallets.recoverOnce();
    await idempotency.purge();
  }

  return {
    wallets,
    idempotency,
    server,
    relay,
    consumers,
    maintain,
    async start(listen: ListenOptions = { port: config.PORT, host: config.HOST }): Promise<ListenResult> {
      unfollow ??= wallets.users.follow({ nc, namespace: config.EVENTS_NAMESPACE, logger });
      for (const c of consumers) await c.start();
      relay.start();
      if (config.WALLET_RECOVERY_INTERVAL_MS > 0) {
        recovery = setInterval(() => {
          passing ??= maintain()
            .catch((err: unknown) => logger.warn({ err }, "recovery pass failed"))
            .finally(() => {
              passing = undefined;
            });
        }, config.WALLET_RECOVERY_INTERVAL_MS);
        recovery.unref();
      }
      return server.listen(listen);
    },
    async stop(): Promise<void> {
      clearInterval(recovery);
      await server.close();
      await passing;
      for (const c of consumers) await c.stop();
      await relay.stop();
      unfollow?.();
      unfollow = undefined;
    },
  };
}

// Who may call what, checked before validation so a caller without the right learns no request rules. Every
// method acts for a user (per-object checks are in the handlers); reversals and payouts are an admin's.
const walletAccess = defineAccess(WalletService, {
  createWallet: "user",
  listWallets: "user",
  getWallet: "user",
  getWalletBalance: "user",
  getUserBalance: "user",
  fundWallet: "user",
  withdrawFromWallet: "user",
  convertCurrency: "user",
  listWalletTransactions: "user",
  createTransfer: "user",
  createTransaction: "user",
  getTransaction: "user",
  listTransactions: "user",
  updateTransaction: "user",
  refundTransaction: "user",
  reverseTransaction: "admin",
  payOutWallet: "admin",
});
