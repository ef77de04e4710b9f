import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import { requireService } from "@fintech/auth";
import { formatAmount } from "@fintech/money";
import { pageSize } from "@fintech/platform";
import type { TransferResult } from "@fintech/proto/fintech/ledger/v1/ledger_pb.js";
import {
  LedgerService,
  TransferResultSchema,
  TransferSide,
} from "@fintech/proto/fintech/ledger/v1/ledger_pb.js";
import type { Outcome } from "./apply-batch.js";
import { refusalError, refusalValue } from "./errors.js";
import type { IntegrityChecker } from "./integrity.js";
import type { LedgerService as Ledger } from "./ledger-service.js";
import {
  accountKindOf,
  accountMessage,
  balanceMessage,
  transferMessage,
  transferRequestOf,
  violationMessage,
} from "./messages.js";

// The RPC surface: decimal strings and proto messages at the edge, bigint minor units inside. Requests have
// passed the auth interceptor and validation.ts; every handler first checks that the caller is a service.

export function ledgerRoutes(deps: {
  ledger: Ledger;
  integrity: IntegrityChecker;
  /** Services allowed to call (LEDGER_CALLERS); empty: any service. Users never are. */
  callers: readonly string[];
}) {
  const { ledger, integrity } = deps;
  const allowed = deps.callers.length > 0 ? deps.callers : undefined;
  // Unauthenticated without a verified caller, PermissionDenied (FORBIDDEN) for a user or another service.
  const authorize = (ctx: HandlerContext): void => {
    requireService(ctx, allowed);
  };
  const id = (value: string) => value.toLowerCase();
  return (router: ConnectRouter) =>
    router.service(LedgerService, {
      async createAccount(req, ctx) {
        authorize(ctx);
        const { account, replayed } = await ledger.createAccount({
          id: req.id === "" ? undefined : id(req.id),
          currency: req.currency.toUpperCase(),
          code: req.code,
          ownerRef: req.ownerRef,
          debitsMustNotExceedCredits: req.flags?.debitsMustNotExceedCredits ?? false,
          creditsMustNotExceedDebits: req.flags?.creditsMustNotExceedDebits ?? false,
        });
        return { account: accountMessage(account), replayed };
      },
      async getAccount(req, ctx) {
        authorize(ctx);
        return { account: accountMessage(await ledger.getAccount(id(req.accountId))) };
      },
      async closeAccount(req, ctx) {
        authorize(ctx);
        return { account: accountMessage(await ledger.closeAccount(id(req.accountId))) };
      },
      async getSystemAccount(req, ctx) {
        authorize(ctx);
        // validation.ts let only system kinds through.
        const kind = accountKindOf(req.kind) ?? "settlement";
        return { account: accountMessage(await ledger.systemAccount(kind, req.currency.toUpperCase())) };
      },
      async createTransfer(req, ctx) {
        authorize(ctx);
        // validation.ts requires the transfer.
        const [outcome] = req.transfer ? await ledger.createTransfers([transferRequestOf(req.transfer)]) : [];
        if (outcome === undefined) throw new Error("no outcome for the transfer");
        if (!outcome.ok) throw refusalError(outcome.refusal);
        return { transfer: transferMessage(outcome.transfer), replayed: outcome.replayed };
      },
      async createTransfers(req, ctx) {
        authorize(ctx);
        const outcomes = await ledger.createTransfers(req.transfers.map(transferRequestOf));
        return { results: outcomes.map((o, i) => resultMessage(req.transfers[i]?.id ?? "", o)) };
      },
      async getTransfer(req, ctx) {
        authorize(ctx);
        return { transfer: transferMessage(await ledger.getTransfer(id(req.transferId))) };
      },
      async listAccountTransfers(req, ctx) {
        authorize(ctx);
        const side =
          req.side === TransferSide.DEBIT ? "debit" : req.side === TransferSide.CREDIT ? "credit" : "both";
        const page = await ledger.listAccountTransfers(
          {
            accountId: id(req.accountId),
            side,
            from: req.fromTime && timestampDate(req.fromTime),
            to: req.toTime && timestampDate(req.toTime),
            code: req.code,
            reference: req.reference === "" ? undefined : req.reference,
            oldestFirst: req.oldestFirst,
            limit: pageSize(req.limit),
          },
          req.cursor === "" ? undefined : req.cursor,
        );
        return {
          data: page.data.map(transferMessage),
          hasMore: page.nextCursor !== undefined,
          nextCursor: page.nextCursor ?? "",
        };
      },
      async getBalanceAt(req, ctx) {
        authorize(ctx);
        const b = await ledger.balanceAt(id(req.accountId), req.at && timestampDate(req.at));
        return {
          accountId: b.account.id,
          currency: b.account.currency,
          at: timestampFromDate(b.at),
          balance: balanceMessage(b.account.flags, b.balances, b.account.currency),
          lastTransferId: b.lastTransferId ?? "",
        };
      },
      async checkIntegrity(_req, ctx) {
        authorize(ctx);
        const report = await integrity.check();
        return {
          ok: report.ok,
          violations: report.violations.map(violationMessage),
          totals: report.totals.map((t) => ({
            currency: t.currency,
            debitsPending: formatAmount(t.debitsPending, t.currency),
            debitsPosted: formatAmount(t.debitsPosted, t.currency),
            creditsPending: formatAmount(t.creditsPending, t.currency),
            creditsPosted: formatAmount(t.creditsPosted, t.currency),
          })),
          accountsChecked: BigInt(report.accountsChecked),
          transfersChecked: BigInt(report.transfersChecked),
          checkedAt: timestampFromDate(report.checkedAt),
        };
      },
    });
}

function resultMessage(id: string, o: Outcome): TransferResult {
  if (o.ok) {
    return create(TransferResultSchema, {
      id: o.transfer.id,
      outcome: { case: "transfer", value: transferMessage(o.transfer) },
      replayed: o.replayed,
    });
  }
  return create(TransferResultSchema, {
    id: id.toLowerCase(),
    outcome: {
      case: "refusal",
      value: {
        reason: refusalValue(o.refusal.reason),
        message: o.refusal.message,
        details: o.refusal.details,
      },
    },
  });
}
