import type { MessageInitShape } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import { createBatcher } from "@fintech/db";
import { formatAmount, parseAmount } from "@fintech/money";
import type {
  Balance as LedgerBalance,
  LedgerService,
  NewTransferSchema,
  TransferResult,
} from "@fintech/proto/fintech/ledger/v1/ledger_pb.js";
import { AccountKind, RefusalReason, TransferStatus } from "@fintech/proto/fintech/ledger/v1/ledger_pb.js";
import { isTransient } from "./errors.js";
import { togetherOrAlone } from "./group-commit.js";
import type { TransferPhase } from "./ids.js";
import { transferId } from "./ids.js";
import type { AccountRef, PlannedLeg, SystemKind } from "./legs.js";
import type { Balance, Leg } from "./model.js";

// The wallet's view of the ledger: system accounts, wallet accounts, balances, and the transfers of a
// transaction in each phase. Ledger amounts are decimal strings; here they are bigint minor units.

const KINDS: Record<SystemKind, AccountKind> = {
  settlement: AccountKind.SETTLEMENT,
  merchant_clearing: AccountKind.MERCHANT_CLEARING,
  fx_liquidity: AccountKind.FX_LIQUIDITY,
  revenue: AccountKind.REVENUE,
};

/** The ledger account code of a user's wallet (the ledger only stores it). */
export const WALLET_ACCOUNT_CODE = 1;

/** Why the ledger refused a transaction's transfers. */
export interface Refusal {
  /** The ledger's reason without its prefix, e.g. INSUFFICIENT_FUNDS. */
  reason: string;
  message: string;
  details: Record<string, string>;
}

export type ApplyOutcome = { ok: true } | { ok: false; refusal: Refusal };

type NewTransfer = MessageInitShape<typeof NewTransferSchema>;

/** Most transfers in one CreateTransfers call of the wallet's (the ledger takes up to 8190). */
const MAX_CALL_TRANSFERS = 200;
/** Calls under way at once: one fills while the ledger commits another. */
const CALLS_AT_ONCE = 2;

/**
 * Sends the transfers of concurrent transactions, each a linked chain (all or nothing), to the ledger in shared
 * CreateTransfers calls (libs/db's batcher): chains submitted in the same turn of the event loop go together, as
 * do those submitted while `CALLS_AT_ONCE` calls are under way, each still all or nothing on its own, each
 * answered with its own results (the ledger answers a transfer of the same id and fields again, in the same call
 * too, with the transfer it created). Alone, a chain is its own call. A shared call the ledger refuses as a whole
 * for a reason one chain may have caused (an invalid transfer) is made again for each chain alone, so that the
 * refusal is that chain's only; one that got no answer (the ledger away or slow) fails every chain in it, as
 * their own calls would have.
 */
function chainSender(ledger: Client<typeof LedgerService>) {
  async function send(transfers: NewTransfer[]): Promise<TransferResult[]> {
    const { results } = await ledger.createTransfers({ transfers });
    if (results.length !== transfers.length) {
      throw new Error(`the ledger answered ${results.length} results for ${transfers.length} transfers`);
    }
    return results;
  }
  return createBatcher<NewTransfer[], TransferResult[]>({
    maxBatch: MAX_CALL_TRANSFERS,
    sizeOf: (chain) => chain.length,
    concurrency: CALLS_AT_ONCE,
    flush: (chains) =>
      togetherOrAlone(
        chains,
        async (some) => {
          const results = await send(some.flat());
          let at = 0;
          return some.map((c) => {
            at += c.length;
            return results.slice(at - c.length, at);
          });
        },
        isTransient,
      ),
  });
}

export function createBook(ledger: Client<typeof LedgerService>) {
  const chains = chainSender(ledger);
  // System accounts never change once opened: remember them for the life of the process.
  const systems = new Map<string, Promise<string>>();

  function systemAccount(kind: SystemKind, currency: string): Promise<string> {
    const key = `${kind}:${currency}`;
    let id = systems.get(key);
    if (id === undefined) {
      id = ledger.getSystemAccount({ kind: KINDS[kind], currency }).then((r) => r.account?.id ?? "");
      // A failed lookup is asked again next time.
      id.catch(() => systems.delete(key));
      systems.set(key, id);
    }
    return id;
  }

  return {
    systemAccount,

    /** The ledger ids of planned legs. */
    async resolve(legs: readonly PlannedLeg[]): Promise<Leg[]> {
      const id = (ref: AccountRef) =>
        "wallet" in ref ? Promise.resolve(ref.wallet) : systemAccount(ref.system, ref.currency);
      return Promise.all(
        legs.map(async (l) => ({
          debit: await id(l.debit),
          credit: await id(l.credit),
          amount: l.amount,
          currency: l.currency,
        })),
      );
    },

    /** Opens a wallet's ledger account (id = the wallet's id); idempotent. It can never go below zero. */
    async openWalletAccount(walletId: string, currency: string, userId: string): Promise<void> {
      await ledger.createAccount({
        id: walletId,
        currency,
        code: WALLET_ACCOUNT_CODE,
        ownerRef: `user:${userId}`.slice(0, 128),
        flags: { debitsMustNotExceedCredits: true },
      });
    },

    async balance(walletId: string): Promise<Balance> {
      const { account } = await ledger.getAccount({ accountId: walletId });
      return balanceOf(account?.balance, account?.currency ?? "");
    },

    /**
     * Sends a transaction's legs to the ledger as one linked chain (all or nothing) in `phase`: "post" moves
     * the money, "hold" reserves it (pending), "settle" posts and "void" releases the holds, "reverse" mirrors
     * posted legs (pass the mirrored legs). Ids derive from the transaction, so a retry is a replay.
     */
    async apply(
      transactionId: string,
      legs: readonly Leg[],
      phase: TransferPhase,
      code: number,
    ): Promise<ApplyOutcome> {
      if (legs.length === 0) return { ok: true };
      const transfers = legs.map((l, i): NewTransfer => {
        const linked = i < legs.length - 1;
        const base = { id: transferId(transactionId, i, phase), code, reference: transactionId };
        if (phase === "settle" || phase === "void") {
          return {
            ...base,
            pendingId: transferId(transactionId, i, "hold"),
            flags: { linked, postPending: phase === "settle", voidPending: phase === "void" },
          };
        }
        return {
          ...base,
          debitAccountId: l.debit,
          creditAccountId: l.credit,
          amount: formatAmount(l.amount, l.currency),
          currency: l.currency,
          flags: { linked, pending: phase === "hold" },
        };
      });
      // One transaction's transfers are a linked chain: the last has `linked` false, so chains sent together
      // in one call stay apart.
      const results = await chains.submit(transfers);
      // In a refused chain every other transfer says LINKED_EVENT_FAILED: report the one that caused it.
      const refusals = results.flatMap((r) => (r.outcome.case === "refusal" ? [r.outcome.value] : []));
      const cause =
        refusals.find((r) => r.reason !== RefusalReason.LINKED_EVENT_FAILED) ?? refusals.at(0) ?? undefined;
      if (cause === undefined) return { ok: true };
      return {
        ok: false,
        refusal: {
          reason: RefusalReason[cause.reason] ?? "UNSPECIFIED",
          message: cause.message,
          details: { ...cause.details },
        },
      };
    },

    /** Whether the hold of a transaction's first leg exists, and what became of it. */
    async holdStatus(transactionId: string): Promise<"none" | "pending" | "posted" | "voided"> {
      try {
        const { transfer } = await ledger.getTransfer({ transferId: transferId(transactionId, 0, "hold") });
        if (transfer?.status === TransferStatus.PENDING) return "pending";
        if (transfer?.status === TransferStatus.POSTED) return "posted";
        return "voided";
      } catch (err) {
        if (err instanceof ConnectError && err.code === Code.NotFound) return "none";
        throw err;
      }
    },
  };
}

export type Book = ReturnType<typeof createBook>;

/** A ledger balance as the wallet shows it. */
export function balanceOf(b: LedgerBalance | undefined, currency: string): Balance {
  const minor = (v: string | undefined) => (v === undefined || v === "" ? 0n : parseAmount(v, currency));
  const posted = minor(b?.creditsPosted) - minor(b?.debitsPosted);
  const pending = minor(b?.debitsPending);
  return { available: posted - pending, pending, posted, incoming: minor(b?.creditsPending) };
}
