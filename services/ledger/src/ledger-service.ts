import type { Queryable } from "@fintech/db";
import { createBatcher, isSerializationFailure, isUniqueViolation, withTransaction } from "@fintech/db";
import { newEventId } from "@fintech/events";
import type { Clock } from "@fintech/platform";
import { cursorParts, pageCursor, takePage } from "@fintech/platform";
import type pg from "pg";
import type { Outcome } from "./apply-batch.js";
import { applyBatch } from "./apply-batch.js";
import { LedgerError } from "./errors.js";
import { transferEvent } from "./events.js";
import type { LedgerMetrics } from "./metrics.js";
import type { Account, AccountKind, Balances, TransferRequest, TransferView } from "./model.js";
import { isMove, MAX_BATCH_TRANSFERS, viewOf, ZERO_BALANCES } from "./model.js";
import type { SequencedTransfer, TransferFilter } from "./store.js";
import { store } from "./store.js";

export interface NewAccount {
  /** Generated (UUID v7) when undefined. */
  id: string | undefined;
  currency: string;
  code: number;
  ownerRef: string;
  debitsMustNotExceedCredits: boolean;
  creditsMustNotExceedDebits: boolean;
}

export interface TransferPage {
  data: TransferView[];
  nextCursor: string | undefined;
}

export interface BalanceAt {
  account: Account;
  at: Date;
  balances: Balances;
  lastTransferId: string | undefined;
}

export type ListFilter = Omit<TransferFilter, "after">;

/** Times a batch is re-run after finding some of its transfer ids stored already. */
const RETRIES = 3;

/** Some transfer ids of the batch exist already; the transaction must be rolled back and re-run. */
class IdConflict extends Error {
  override readonly name = "IdConflict";
}

const isIdConflict = (err: unknown): boolean => err instanceof Error && err.name === "IdConflict";

/**
 * The ledger domain. Transfers go through a batcher: calls that arrive together are applied together (accounts
 * read, checks in memory in arrival order, one bulk write with the outbox events that commits only if the
 * accounts did not change meanwhile, else again under row locks), and each call is answered only after the
 * commit.
 */
export function createLedgerService(deps: {
  pool: pg.Pool;
  clock: Clock;
  metrics: LedgerMetrics;
  /** Batch transactions in progress at once (default 1: one large transaction beats two smaller ones). */
  batchConcurrency?: number;
}) {
  const { pool, clock, metrics } = deps;

  // A call's transfers are never split across transactions; a batch holds up to MAX_BATCH_TRANSFERS of them.
  const batcher = createBatcher<readonly TransferRequest[], Outcome[]>({
    sizeOf: (call) => call.length,
    maxBatch: MAX_BATCH_TRANSFERS,
    concurrency: deps.batchConcurrency ?? 1,
    flush: runBatch,
  });

  async function runBatch(calls: ReadonlyArray<readonly TransferRequest[]>): Promise<Outcome[][]> {
    const started = performance.now();
    // Optimistic first: new ids are the rule, so the batch skips looking its ids up and lets the insert tell;
    // and it reads its accounts without locking them, its write committing only if none changed meanwhile (two
    // round trips to Postgres instead of four: no BEGIN, no COMMIT).
    let lookUpIds = false;
    let lock = false;
    for (let attempt = 0; ; attempt++) {
      try {
        const outcomes = lock
          ? await withTransaction(pool, (tx) => applyOnce(tx, calls, { lookUpIds, lock }))
          : await applyOnce(pool, calls, { lookUpIds, lock });
        metrics.batchSeconds.observe((performance.now() - started) / 1000);
        count(outcomes);
        return outcomes;
      } catch (err) {
        // Some id exists already (a retry, or another writer got there first): run again, reading them, so each
        // is answered as a replay or EXISTS_WITH_DIFFERENT_FIELDS. A unique violation (a pending transfer
        // resolved meanwhile by another replica) is settled the same way.
        if (attempt < RETRIES && (isIdConflict(err) || isUniqueViolation(err))) {
          lookUpIds = true;
          lock = true;
          continue;
        }
        // An account changed between the unlocked read and the write (another replica's batch, a closing, or
        // two batches of this one at LEDGER_BATCH_CONCURRENCY above 1): run again under the locks.
        if (!lock && isSerializationFailure(err)) {
          metrics.batchConflicts.inc();
          lock = true;
          continue;
        }
        throw err;
      }
    }
  }

  async function applyOnce(
    db: Queryable,
    calls: ReadonlyArray<readonly TransferRequest[]>,
    opts: { lookUpIds: boolean; lock: boolean },
  ): Promise<Outcome[][]> {
    const { lookUpIds, lock } = opts;
    const ids = new Set<string>();
    const pendingIds = new Set<string>();
    const accountIds = new Set<string>();
    for (const call of calls) {
      for (const t of call) {
        if (lookUpIds) ids.add(t.id);
        if (isMove(t)) accountIds.add(t.debitAccountId).add(t.creditAccountId);
        else pendingIds.add(t.pendingId);
      }
    }
    // Read first: stored transfers never change, and an id stored meanwhile fails the write (retried).
    const stored = await store.transfers(db, [...ids, ...pendingIds]);
    const storedPendings: string[] = [];
    for (const t of stored.values()) {
      if (t.kind !== "pending") continue;
      storedPendings.push(t.id);
      accountIds.add(t.debitAccountId).add(t.creditAccountId);
    }
    const accounts = await store.batchAccounts(db, [...accountIds], { lock });
    // Read after the accounts: a pending transfer is resolved only together with a change to its accounts, so a
    // resolution this read misses fails the write's version check (or waited for the locks).
    const resolutions = await store.resolutions(db, storedPendings);
    // Transfer timestamps never go back on an account, even if this replica's clock is behind another's.
    let nowMs = clock.now().getTime();
    for (const a of accounts.values()) if (a.updatedAtMs > nowMs) nowMs = a.updatedAtMs;
    const now = new Date(nowMs);

    const result = applyBatch(calls, { accounts, stored, resolutions, now });
    if (!lookUpIds) {
      // A refused transfer may be a retry of one stored earlier, which must get its original answer instead.
      const refused = calls.flatMap((call, c) =>
        call.filter((_, i) => result.outcomes[c]?.[i]?.ok === false),
      );
      const retried = await store.transfers(
        db,
        refused.map((t) => t.id),
      );
      if (retried.size > 0) throw new IdConflict();
    }
    metrics.batchSize.observe(result.created.length);
    if (result.created.length > 0) {
      await store.writeBatch(db, {
        transfers: result.created,
        balances: result.balances,
        now,
        events: result.created.map(transferEvent),
        timeouts: result.created.flatMap((t) =>
          t.kind === "pending" && t.expiresAt !== null ? [{ pendingId: t.id, expiresAt: t.expiresAt }] : [],
        ),
        resolved: result.created.flatMap((t) => (t.pendingId === null ? [] : [t.pendingId])),
        versions: lock ? undefined : new Map([...accounts.values()].map((a) => [a.id, a.version])),
      });
    }
    return result.outcomes;
  }

  function count(outcomes: Outcome[][]): void {
    for (const call of outcomes) {
      for (const o of call) {
        metrics.transfers.inc({ result: o.ok ? (o.replayed ? "replayed" : "created") : o.refusal.reason });
      }
    }
  }

  async function viewsOf(transfers: SequencedTransfer[]): Promise<TransferView[]> {
    const pending = transfers.filter((t) => t.kind === "pending").map((t) => t.id);
    const resolutions = await store.resolutions(pool, pending);
    return transfers.map((t) => viewOf(t, resolutions.get(t.id)));
  }

  async function mustGetAccount(id: string): Promise<Account> {
    const a = await store.account(pool, id);
    if (!a) throw new LedgerError("ACCOUNT_NOT_FOUND", `account ${id} not found`, { account_id: id });
    return a;
  }

  return {
    /** Opens an account; idempotent for a caller-chosen id (same fields -> replayed). */
    async createAccount(input: NewAccount): Promise<{ account: Account; replayed: boolean }> {
      const now = clock.now();
      const account: Account = {
        id: input.id ?? newEventId(now.getTime()),
        currency: input.currency,
        kind: "general",
        code: input.code,
        ownerRef: input.ownerRef,
        flags: {
          debitsMustNotExceedCredits: input.debitsMustNotExceedCredits,
          creditsMustNotExceedDebits: input.creditsMustNotExceedDebits,
          closed: false,
        },
        balances: ZERO_BALANCES,
        createdAt: now,
        updatedAt: now,
      };
      if (await store.insertAccount(pool, account)) return { account, replayed: false };
      const existing = await mustGetAccount(account.id);
      const field = differingAccountField(account, existing);
      if (field !== undefined) {
        throw new LedgerError(
          "EXISTS_WITH_DIFFERENT_FIELDS",
          `account ${account.id} exists with a different ${field}`,
          { account_id: account.id, field },
        );
      }
      return { account: existing, replayed: true };
    },

    getAccount: mustGetAccount,

    /** Closes an account for good; closing a closed account returns it unchanged. */
    async closeAccount(id: string): Promise<Account> {
      const a = await store.closeAccount(pool, id);
      if (!a) throw new LedgerError("ACCOUNT_NOT_FOUND", `account ${id} not found`, { account_id: id });
      return a;
    },

    /** The system account of a kind in a currency, opened on first use (once, whatever the concurrency). */
    async systemAccount(kind: AccountKind, currency: string): Promise<Account> {
      const found = await store.systemAccount(pool, kind, currency);
      if (found) return found;
      const now = clock.now();
      await store.insertAccount(pool, {
        id: newEventId(now.getTime()),
        currency,
        kind,
        code: 0,
        ownerRef: "",
        flags: { debitsMustNotExceedCredits: false, creditsMustNotExceedDebits: false, closed: false },
        balances: ZERO_BALANCES,
        createdAt: now,
        updatedAt: now,
      });
      const a = await store.systemAccount(pool, kind, currency);
      if (!a) throw new Error(`system account ${kind} ${currency} missing after insert`);
      return a;
    },

    /**
     * Applies one call's transfers in order (linked chains all or nothing) and returns one outcome per transfer,
     * after the transaction holding them has committed. At most MAX_BATCH_TRANSFERS per call.
     */
    createTransfers(requests: readonly TransferRequest[]): Promise<Outcome[]> {
      return batcher.submit(requests);
    },

    async getTransfer(id: string): Promise<TransferView> {
      const t = await store.transfer(pool, id);
      if (!t) throw new LedgerError("TRANSFER_NOT_FOUND", `transfer ${id} not found`, { transfer_id: id });
      const [view] = await viewsOf([t]);
      return view ?? viewOf(t, undefined);
    },

    /** A page of an account's transfers; `cursor` comes from the previous page's nextCursor. */
    async listAccountTransfers(filter: ListFilter, cursor: string | undefined): Promise<TransferPage> {
      await mustGetAccount(filter.accountId);
      const after = cursor === undefined ? undefined : transferCursor.decode(cursor);
      const rows = await store.accountTransfers(pool, { ...filter, after, limit: filter.limit + 1 });
      const { items, nextPageToken } = takePage(rows, filter.limit, (last) => transferCursor.encode(last));
      return { data: await viewsOf(items), nextCursor: nextPageToken };
    },

    /** The account's balances after every transfer applied at or before `at` (default now). */
    async balanceAt(accountId: string, at: Date | undefined): Promise<BalanceAt> {
      const account = await mustGetAccount(accountId);
      const when = at ?? clock.now();
      const last = await store.lastTransferAt(pool, accountId, when);
      const balances =
        last === undefined
          ? ZERO_BALANCES
          : last.debitAccountId === accountId
            ? last.debitAfter
            : last.creditAfter;
      return { account, at: when, balances, lastTransferId: last?.id };
    },

    /** Resolves once no batch is running or queued. */
    idle: () => batcher.idle(),
  };
}

export type LedgerService = ReturnType<typeof createLedgerService>;

function differingAccountField(wanted: Account, existing: Account): string | undefined {
  if (wanted.kind !== existing.kind) return "kind";
  if (wanted.currency !== existing.currency) return "currency";
  if (wanted.code !== existing.code) return "code";
  if (wanted.ownerRef !== existing.ownerRef) return "owner_ref";
  if (wanted.flags.debitsMustNotExceedCredits !== existing.flags.debitsMustNotExceedCredits) return "flags";
  if (wanted.flags.creditsMustNotExceedDebits !== existing.flags.creditsMustNotExceedDebits) return "flags";
  return undefined;
}

/** An account's transfers are listed in apply order: the position is the last transfer's time and sequence. */
const transferCursor = pageCursor({ createdAt: cursorParts.time, seq: cursorParts.int64 });
