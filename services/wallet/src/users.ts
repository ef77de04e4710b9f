import { fromBinary } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import type { IdentityUserMessage } from "@fintech/auth";
import { followIdentityUsers } from "@fintech/auth";
import { withTransaction } from "@fintech/db";
import type { EventConsumer } from "@fintech/events";
import { CloudEventHeaders, createConsumer, eventHandler } from "@fintech/events";
import type { Clock } from "@fintech/platform";
import {
  UserDeletedSchema,
  UserProfileChangedSchema,
  UserRegisteredSchema,
  UserStatusChangedSchema,
} from "@fintech/proto/fintech/identity/v1/events_pb.js";
import type {
  IdentityService,
  User as IdentityUser,
} from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import { UserStatus } from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import type { NatsConnection } from "@nats-io/transport-node";
import type pg from "pg";
import type { Logger } from "pino";
import type { Book } from "./book.js";
import { TtlCache } from "./cache.js";
import { WalletError } from "./errors.js";
import { publishWalletCreated } from "./events.js";
import { walletId } from "./ids.js";
import type { UserStatus as Status, User, Wallet } from "./model.js";
import { store } from "./store.js";

// The users the wallet serves: a projection of identity's events (status, time zone, default currency),
// with identity's GetUser as the fallback when a request arrives before the user's first event. A user's
// default wallet opens when identity.user.registered arrives, or on that fallback, whichever comes first.

/** Durable consumer name (and inbox `consumer`) of the identity events consumer. */
export const IDENTITY_CONSUMER = "wallet-identity";

const STATUS: Partial<Record<UserStatus, Status>> = {
  [UserStatus.ACTIVE]: "active",
  [UserStatus.SUSPENDED]: "suspended",
  [UserStatus.CLOSED]: "closed",
  [UserStatus.DELETED]: "deleted",
};

interface UserFacts {
  userId: string;
  status: UserStatus;
  timezone: string;
  defaultCurrency: string;
}

const userOf = (f: UserFacts, deleted = false): User => ({
  id: f.userId,
  status: deleted ? "deleted" : (STATUS[f.status] ?? "suspended"),
  timezone: f.timezone || "UTC",
  defaultCurrency: f.defaultCurrency || "MYR",
});

/** Most users whose heard change the projection has yet to apply, remembered at once; the oldest go first. */
const MAX_CHANGES_AWAITED = 100_000;

interface HeardChange {
  userId: string;
  /**
   * When it happened (ms since the epoch), as the projection's version will say once it is applied; undefined
   * for an event that says neither.
   */
  at: number | undefined;
}

/**
 * The user and time of an identity.user.* event the projection applies, undefined for others (roles are not
 * in it). The time is the event's occurred_at, or its ce-time when that is missing, as the consumer takes it.
 */
function heardChange(type: string, msg: IdentityUserMessage): HeardChange | undefined {
  const schema = PROJECTED[type];
  if (schema === undefined) return undefined;
  const m = fromBinary(schema, msg.data);
  const at = m.occurredAt
    ? timestampDate(m.occurredAt).getTime()
    : Date.parse(msg.headers?.get(CloudEventHeaders.time) ?? "");
  return { userId: m.userId, at: Number.isNaN(at) ? undefined : at };
}

const PROJECTED: Record<
  string,
  | typeof UserRegisteredSchema
  | typeof UserStatusChangedSchema
  | typeof UserProfileChangedSchema
  | typeof UserDeletedSchema
> = {
  "identity.user.registered": UserRegisteredSchema,
  "identity.user.status_changed": UserStatusChangedSchema,
  "identity.user.profile_changed": UserProfileChangedSchema,
  "identity.user.deleted": UserDeletedSchema,
};

export function createUsers(deps: {
  pool: pg.Pool;
  identity: Client<typeof IdentityService>;
  book: Book;
  clock: Clock;
  /**
   * How long a user's state is reused in memory, in ms (0: read it every time). This process's consumer drops
   * a user's entry as their change arrives; other replicas see it within this time.
   */
  cacheTtlMs: number;
}) {
  const { pool, identity, book, clock } = deps;
  const cache = new TtlCache<User>(deps.cacheTtlMs);
  // Wallets never change owner or currency; closing one (its user closed) is also refused by the user's
  // status, so a minute of reuse is safe.
  const wallets = new TtlCache<Wallet>(deps.cacheTtlMs > 0 ? 60_000 : 0);

  /**
   * Opens a user's wallet in `currency` (ledger account first, then the row), unless it exists; idempotent
   * and safe to race, since the id is derived from the user and currency. Returns the wallet and whether this
   * call opened it.
   */
  async function openWallet(
    db: pg.Pool | pg.PoolClient,
    userId: string,
    currency: string,
    isDefault: boolean,
  ): Promise<{ wallet: Wallet; opened: boolean }> {
    const id = walletId(userId, currency);
    await book.openWalletAccount(id, currency, userId);
    const wallet: Wallet = { id, userId, currency, status: "active", isDefault, createdAt: clock.now() };
    const insert = async (tx: pg.PoolClient) => {
      const opened = await store.insertWallet(tx, wallet);
      if (opened) await publishWalletCreated(tx, wallet);
      return opened;
    };
    const opened = "release" in db ? await insert(db) : await withTransaction(db, insert);
    if (opened) return { wallet, opened };
    const existing = await store.getWallet(db, id);
    if (existing === undefined) {
      // Another wallet holds (user, currency) under another id: only possible if ids were made differently.
      throw new WalletError("WALLET_EXISTS", `a ${currency} wallet exists already`, { currency });
    }
    return { wallet: existing, opened: false };
  }

  // Users this process heard a change of (follow) that the projection may not have applied yet: the time the
  // change happened, which the projection's version must reach before a user read from it is reused. Kept until
  // then (no TTL), the oldest going first past MAX_CHANGES_AWAITED.
  const changedSince = new TtlCache<number>(Number.POSITIVE_INFINITY, MAX_CHANGES_AWAITED);

  /** Keeps a user read from the projection for the TTL, unless it is older than a change heard of. */
  function remember(user: User, version: Date): void {
    const awaited = changedSince.get(user.id);
    if (awaited !== undefined) {
      if (version.getTime() < awaited) return;
      changedSince.delete(user.id);
    }
    cache.set(user.id, user);
  }

  /** Applies one state of a user from identity; false when a newer state was kept already. */
  async function apply(db: pg.PoolClient, user: User, version: Date): Promise<boolean> {
    const applied = await store.upsertUser(db, user, version);
    if (user.status === "closed" || user.status === "deleted") await store.closeWallets(db, user.id);
    cache.delete(user.id);
    wallets.deleteWhere((w) => w.userId === user.id);
    return applied;
  }

  return {
    openWallet,

    /** A wallet by id (reused from memory for a minute; see `wallets`). */
    async wallet(id: string): Promise<Wallet | undefined> {
      const cached = wallets.get(id);
      if (cached !== undefined) return cached;
      const w = await store.getWallet(pool, id);
      if (w !== undefined) wallets.set(id, w);
      return w;
    },

    /**
     * The user as the wallet knows them; from identity (GetUser, as this service) when no event has arrived
     * yet, which also opens their default wallet. NOT_FOUND when identity does not know them.
     */
    async get(userId: string): Promise<User> {
      const cached = cache.get(userId);
      if (cached !== undefined) return cached;
      const known = await store.getUser(pool, userId);
      if (known !== undefined) {
        remember(known.user, known.version);
        return known.user;
      }
      let found: IdentityUser | undefined;
      try {
        found = (await identity.getUser({ id: userId })).user;
      } catch (err) {
        if (err instanceof ConnectError && err.code === Code.NotFound) {
          throw new WalletError("NOT_FOUND", `user ${userId} not found`, {}, { cause: err });
        }
        throw err;
      }
      if (found === undefined) throw new WalletError("NOT_FOUND", `user ${userId} not found`);
      const user = userOf(
        {
          userId: found.id,
          status: found.status,
          timezone: found.timezone,
          defaultCurrency: found.defaultCurrency,
        },
        found.deletedAt !== undefined,
      );
      const version = found.updatedAt ? timestampDate(found.updatedAt) : new Date(0);
      await withTransaction(pool, (tx) => apply(tx, user, version));
      if (user.status === "active") await openWallet(pool, user.id, user.defaultCurrency, true);
      return (await store.getUser(pool, userId))?.user ?? user;
    },

    /**
     * Follows identity's user events in this process (every replica hears each one, followIdentityUsers), so
     * that a change reaches this replica's memory when it is published, not within the TTL: the user is
     * looked up again, and until the projection (one replica's consumer) has applied the change, what it
     * holds is used but not reused. When events may have been missed, every user and wallet is looked up
     * again. Returns a stop function.
     */
    follow(opts: { nc: NatsConnection; namespace: string; logger: Logger }): () => void {
      const forgetAll = () => {
        cache.deleteWhere(() => true);
        wallets.deleteWhere(() => true);
      };
      return followIdentityUsers(
        opts.nc,
        {
          heard(type, msg) {
            let change: HeardChange | undefined;
            try {
              change = heardChange(type, msg);
            } catch (err) {
              opts.logger.warn({ err, type }, "undecodable identity event; users are looked up again");
              forgetAll();
              return;
            }
            if (change === undefined) return;
            const { userId, at } = change;
            cache.delete(userId);
            if (type !== "identity.user.registered") wallets.deleteWhere((w) => w.userId === userId);
            if (at !== undefined && (changedSince.get(userId) ?? Number.NEGATIVE_INFINITY) < at) {
              changedSince.set(userId, at);
            }
          },
          missed: forgetAll,
        },
        opts,
      );
    },

    /** The consumer of identity.user.* keeping the projection and opening default wallets. */
    consumer(opts: { nc: NatsConnection; namespace: string; logger: Logger }): EventConsumer {
      const at = (t: { occurredAt?: Parameters<typeof timestampDate>[0] | undefined }, fallback: Date) =>
        t.occurredAt ? timestampDate(t.occurredAt) : fallback;
      return createConsumer({
        pool,
        nc: opts.nc,
        context: "identity",
        durable: IDENTITY_CONSUMER,
        filterSubject: "identity.user.>",
        namespace: opts.namespace,
        logger: opts.logger,
        handlers: {
          "identity.user.registered": eventHandler(UserRegisteredSchema, async (event, tx) => {
            const user = userOf(event.message);
            await apply(tx, user, at(event.message, event.time));
            await openWallet(tx, user.id, user.defaultCurrency, true);
          }),
          "identity.user.status_changed": eventHandler(UserStatusChangedSchema, async (event, tx) => {
            await apply(tx, userOf(event.message), at(event.message, event.time));
          }),
          "identity.user.profile_changed": eventHandler(UserProfileChangedSchema, async (event, tx) => {
            const user = userOf(event.message);
            // An older state than the one kept (events of one user may arrive out of order) changes nothing.
            if (!(await apply(tx, user, at(event.message, event.time)))) return;
            if (user.status !== "active") return;
            // The default wallet follows the default currency: the one in it, opened when the user has none.
            const { wallet } = await openWallet(tx, user.id, user.defaultCurrency, true);
            await store.setDefaultWallet(tx, user.id, wallet.id);
          }),
          "identity.user.deleted": eventHandler(UserDeletedSchema, async (event, tx) => {
            await apply(tx, userOf(event.message, true), at(event.message, event.time));
          }),
        },
      });
    },
  };
}

export type Users = ReturnType<typeof createUsers>;
