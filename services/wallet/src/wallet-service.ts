import type { UserPrincipal } from "@fintech/auth";
import type { Clock } from "@fintech/platform";
import { cursorParts, pageCursor, pageSize, pageSizeIssues, takePage } from "@fintech/platform";
import type pg from "pg";
import type { Logger } from "pino";
import { activeUser, transactionOf, walletOf } from "./access.js";
import type { Backends } from "./backends.js";
import { createBook } from "./book.js";
import { invalid, WalletError } from "./errors.js";
import type { Idempotency } from "./idempotency.js";
import type { ListParams } from "./list-query.js";
import { cursorAfter, transactionQuery } from "./list-query.js";
import { walletMetrics } from "./metrics.js";
import type { Transaction, Wallet, WalletView } from "./model.js";
import type { MovementSettings } from "./movements/kit.js";
import { createPipeline } from "./movements/pipeline.js";
import type { ProcessorSettings } from "./processor.js";
import { createProcessor } from "./processor.js";
import { createRates } from "./rates.js";
import { store } from "./store.js";
import { createUsers } from "./users.js";

/** A user's wallets are listed oldest first: the position is the last wallet's creation time and id. */
const walletCursor = pageCursor({ createdAt: cursorParts.time, id: cursorParts.uuid });

export interface WalletSettings extends MovementSettings {
  fraud: Omit<ProcessorSettings, "leaseMs">;
  /** How long fx's currency list is reused, in ms. */
  currencyCacheTtlMs: number;
  /** How long a user's status and time zone are reused in memory, in ms. */
  userCacheTtlMs: number;
}

export interface Page<T> {
  data: T[];
  nextCursor: string | undefined;
}

const MAX_DESCRIPTION = 500;
const MAX_TAGS = 20;
const MAX_TAG = 50;

/**
 * The wallet domain: wallets and balances, the money movements (movements/, run by their pipeline and driven
 * by the processor, processor.ts), the lists, and the users projection (users.ts). Amounts are bigint minor
 * units.
 */
export function createWalletService(deps: {
  pool: pg.Pool;
  backends: Backends;
  /** Idempotency-Keys of the money-moving calls. */
  idempotency: Idempotency;
  clock: Clock;
  logger: Logger;
  settings: WalletSettings;
}) {
  const { pool, backends, idempotency, clock, logger, settings } = deps;
  const book = createBook(backends.ledger);
  const rates = createRates({ fx: backends.fx, cacheTtlMs: settings.currencyCacheTtlMs });
  const users = createUsers({
    pool,
    identity: backends.identity,
    book,
    clock,
    cacheTtlMs: settings.userCacheTtlMs,
  });
  const processor = createProcessor({
    pool,
    book,
    fraud: backends.fraud,
    fx: backends.fx,
    clock,
    logger,
    settings: { ...settings.fraud, leaseMs: settings.leaseMs },
    metrics: walletMetrics(),
  });
  const movements = createPipeline({
    pool,
    book,
    users,
    rates,
    processor,
    idempotency,
    clock,
    logger,
    settings,
  });

  async function view(wallet: Wallet): Promise<WalletView> {
    return { wallet, balance: await book.balance(wallet.id) };
  }

  /** A page of `scope`'s transactions, dates read in the time zone of `ownerId` (the user listed). */
  async function page(
    ownerId: string,
    params: ListParams,
    scope: { userId: string } | { walletId: string },
  ): Promise<Page<Transaction>> {
    const user = await users.get(ownerId);
    const query = transactionQuery(params, scope, user.timezone);
    const rows = await store.listTransactions(pool, { ...query, limit: query.limit + 1 });
    const { items, nextPageToken } = takePage(rows, query.limit, (last) => cursorAfter(last, query.sortBy));
    return { data: items, nextCursor: nextPageToken };
  }

  return {
    users,
    processor,
    movements,
    book,
    rates,

    /** Opens the caller's wallet in a supported currency. */
    async createWallet(p: UserPrincipal, currency: string): Promise<WalletView> {
      const user = await activeUser(users, p.userId);
      const code = currency.toUpperCase();
      await rates.requireSupported(code, "currency");
      const existing = (await store.walletsOf(pool, user.id)).find((w) => w.currency === code);
      if (existing !== undefined) {
        throw new WalletError("WALLET_EXISTS", `a ${code} wallet exists already`, {
          currency: code,
          wallet_id: existing.id,
        });
      }
      const { wallet, opened } = await users.openWallet(pool, user.id, code, code === user.defaultCurrency);
      if (!opened) {
        throw new WalletError("WALLET_EXISTS", `a ${code} wallet exists already`, {
          currency: code,
          wallet_id: wallet.id,
        });
      }
      return view(wallet);
    },

    /** The caller's wallets, oldest first. */
    async listWallets(p: UserPrincipal, limit: number, cursor: string): Promise<Page<WalletView>> {
      const [badLimit] = pageSizeIssues(limit);
      if (badLimit !== undefined) throw invalid(badLimit.field, badLimit.message);
      const size = pageSize(limit);
      await users.get(p.userId);
      const after = cursor === "" ? undefined : walletCursor.decode(cursor);
      const rows = await store.listWallets(pool, p.userId, size + 1, after);
      const { items, nextPageToken } = takePage(rows, size, (last) => walletCursor.encode(last));
      return { data: await Promise.all(items.map(view)), nextCursor: nextPageToken };
    },

    async getWallet(p: UserPrincipal, id: string): Promise<WalletView> {
      return view(await walletOf(users, p, id, { forRead: true }));
    },

    /** Every wallet of a user, each available balance converted into their default currency and summed. */
    async userBalance(
      p: UserPrincipal,
      userId: string,
    ): Promise<{ userId: string; currency: string; total: bigint; wallets: WalletView[] }> {
      const id = userId === "me" ? p.userId : userId;
      if (id !== p.userId && !p.roles.includes("admin")) {
        throw new WalletError("NOT_FOUND", `user ${userId} not found`, { field: "user_id" });
      }
      const user = await users.get(id);
      const wallets = await Promise.all((await store.walletsOf(pool, id)).map(view));
      let total = 0n;
      for (const w of wallets) {
        if (w.balance.available <= 0n) continue;
        total += (await rates.convert(w.balance.available, w.wallet.currency, user.defaultCurrency)).amount;
      }
      return { userId: id, currency: user.defaultCurrency, total, wallets };
    },

    async getTransaction(p: UserPrincipal, id: string): Promise<Transaction> {
      return transactionOf(pool, p, id);
    },

    /**
     * The caller's transactions, or (admins only) those of `userId`. Another user's id from a user is
     * NOT_FOUND, like any of their objects, so nobody learns whether that user exists.
     */
    async listTransactions(p: UserPrincipal, params: ListParams, userId = ""): Promise<Page<Transaction>> {
      const id = userId === "" || userId === "me" ? p.userId : userId.toLowerCase();
      if (id !== p.userId && !p.roles.includes("admin")) {
        throw new WalletError("NOT_FOUND", `user ${userId} not found`, { field: "user_id" });
      }
      return page(id, params, { userId: id });
    },

    /** One of the caller's wallets' transactions (conversions into it included). */
    async listWalletTransactions(
      p: UserPrincipal,
      walletId: string,
      params: ListParams,
    ): Promise<Page<Transaction>> {
      const wallet = await walletOf(users, p, walletId, { forRead: true });
      return page(p.userId, params, { walletId: wallet.id });
    },

    /** Changes a transaction's description and tags, nothing else. */
    async annotate(
      p: UserPrincipal,
      id: string,
      change: { description?: string; tags: string[]; clearTags: boolean },
    ): Promise<Transaction> {
      const t = await transactionOf(pool, p, id);
      if (change.description !== undefined && change.description.length > MAX_DESCRIPTION) {
        throw invalid("description", `must be at most ${MAX_DESCRIPTION} characters`);
      }
      if (change.clearTags && change.tags.length > 0) throw invalid("tags", "must be empty with clear_tags");
      const tags = change.tags.map((tag) => tag.trim());
      if (tags.length > MAX_TAGS) throw invalid("tags", `at most ${MAX_TAGS} tags`);
      if (tags.some((tag) => tag.length === 0 || tag.length > MAX_TAG)) {
        throw invalid("tags", `each tag must be 1 to ${MAX_TAG} characters`);
      }
      const next: { description?: string; tags?: string[] } = {};
      if (change.description !== undefined) next.description = change.description;
      if (change.clearTags) next.tags = [];
      else if (tags.length > 0) next.tags = [...new Set(tags)];
      if (next.description === undefined && next.tags === undefined) return t;
      return (await store.annotate(pool, t.id, next, clock.now())) ?? t;
    },

    /**
     * One recovery pass: takes over up to `limit` unfinished transactions whose lease ran out and drives each
     * again. Returns how many it took.
     */
    async recoverOnce(limit = 100): Promise<number> {
      const ids = await store.claimUnfinished(pool, clock.now(), settings.leaseMs, limit);
      for (const id of ids) {
        try {
          await processor.recover(id);
        } catch (err) {
          logger.warn({ err, transaction_id: id }, "recovery of a transaction failed; it is retried later");
        }
      }
      return ids.length;
    },
  };
}

export type WalletService = ReturnType<typeof createWalletService>;
