import { create } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
import { requireUser } from "@fintech/auth";
import { formatAmount } from "@fintech/money";
import { TransactionStatus, TransactionType } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import { WalletService } from "@fintech/proto/fintech/wallet/v1/wallet_pb.js";
import type { Idempotency } from "./idempotency.js";
import type { ListParams } from "./list-query.js";
import { balanceMessage, transactionMessage, walletMessage } from "./messages.js";
import type { TransactionStatus as Status, TransactionType as Type } from "./model.js";
import { convert } from "./movements/convert.js";
import { fund } from "./movements/fund.js";
import { payment } from "./movements/payment.js";
import { payout } from "./movements/payout.js";
import { refund } from "./movements/refund.js";
import { reverse } from "./movements/reverse.js";
import { transfer } from "./movements/transfer.js";
import { withdraw } from "./movements/withdraw.js";
import type { Page, WalletService as Wallets } from "./wallet-service.js";

// The RPC surface: decimal strings and proto messages at the edge, the domain in between. Requests have
// passed the auth interceptor and validation.ts. Every caller is a user; money-moving RPCs are movements
// (movements/*.ts), run by their pipeline, which honours the idempotency-key header.

const STATUSES: Partial<Record<TransactionStatus, Status>> = {
  [TransactionStatus.PENDING]: "pending",
  [TransactionStatus.COMPLETED]: "completed",
  [TransactionStatus.FAILED]: "failed",
  [TransactionStatus.REVERSED]: "reversed",
};

const TYPES: Partial<Record<TransactionType, Type>> = {
  [TransactionType.TOP_UP]: "top_up",
  [TransactionType.WITHDRAWAL]: "withdrawal",
  [TransactionType.PURCHASE]: "purchase",
  [TransactionType.TRANSFER]: "transfer",
  [TransactionType.CONVERSION]: "conversion",
  [TransactionType.REFUND]: "refund",
};

interface ListFields {
  status: TransactionStatus;
  transactionType: TransactionType;
  merchantCategory: string;
  startDate: string;
  endDate: string;
  minAmount: string;
  maxAmount: string;
  sortBy: string;
  sortOrder: string;
  limit: number;
  cursor: string;
  offset: number;
}

function listParams(r: ListFields): ListParams {
  const params: ListParams = {
    merchantCategory: r.merchantCategory,
    startDate: r.startDate,
    endDate: r.endDate,
    minAmount: r.minAmount,
    maxAmount: r.maxAmount,
    sortBy: r.sortBy,
    sortOrder: r.sortOrder,
    limit: r.limit,
    cursor: r.cursor,
    offset: r.offset,
  };
  const status = STATUSES[r.status];
  const type = TYPES[r.transactionType];
  if (status !== undefined) params.status = status;
  if (type !== undefined) params.type = type;
  return params;
}

const transactionsPage = (page: Page<Parameters<typeof transactionMessage>[0]>) => ({
  data: page.data.map(transactionMessage),
  hasMore: page.nextCursor !== undefined,
  nextCursor: page.nextCursor ?? "",
});

export function walletRoutes(deps: { wallets: Wallets; idempotency: Idempotency }) {
  const { wallets, idempotency } = deps;
  const { movements } = wallets;
  const id = (value: string) => value.toLowerCase();

  const m = WalletService.method;
  const move = movements.handler;

  return (router: ConnectRouter) =>
    router.service(WalletService, {
      async createWallet(req, ctx) {
        const p = requireUser(ctx);
        return idempotency.handle(ctx, p, m.createWallet, req, async () =>
          create(m.createWallet.output, {
            wallet: walletMessage(await wallets.createWallet(p, req.currency)),
          }),
        );
      },
      async listWallets(req, ctx) {
        const page = await wallets.listWallets(requireUser(ctx), req.limit, req.cursor);
        return {
          data: page.data.map(walletMessage),
          hasMore: page.nextCursor !== undefined,
          nextCursor: page.nextCursor ?? "",
        };
      },
      async getWallet(req, ctx) {
        return { wallet: walletMessage(await wallets.getWallet(requireUser(ctx), id(req.id))) };
      },
      async getWalletBalance(req, ctx) {
        const { wallet, balance } = await wallets.getWallet(requireUser(ctx), id(req.id));
        const b = balanceMessage(balance, wallet.currency);
        return {
          walletId: wallet.id,
          currency: wallet.currency,
          available: b.available,
          pending: b.pending,
          posted: b.posted,
          incoming: b.incoming,
        };
      },
      async getUserBalance(req, ctx) {
        const b = await wallets.userBalance(requireUser(ctx), req.userId);
        return {
          userId: b.userId,
          currency: b.currency,
          total: formatAmount(b.total, b.currency),
          wallets: b.wallets.map(walletMessage),
        };
      },
      fundWallet: move(m.fundWallet, fund),
      withdrawFromWallet: move(m.withdrawFromWallet, withdraw),
      convertCurrency: move(m.convertCurrency, convert),
      async listWalletTransactions(req, ctx) {
        return transactionsPage(
          await wallets.listWalletTransactions(requireUser(ctx), id(req.id), listParams(req)),
        );
      },
      createTransfer: move(m.createTransfer, transfer),
      createTransaction: move(m.createTransaction, payment),
      async getTransaction(req, ctx) {
        return {
          transaction: transactionMessage(await wallets.getTransaction(requireUser(ctx), id(req.id))),
        };
      },
      async listTransactions(req, ctx) {
        return transactionsPage(
          await wallets.listTransactions(requireUser(ctx), listParams(req), req.userId),
        );
      },
      async updateTransaction(req, ctx) {
        const change =
          req.description === undefined
            ? { tags: req.tags, clearTags: req.clearTags }
            : { description: req.description, tags: req.tags, clearTags: req.clearTags };
        return {
          transaction: transactionMessage(await wallets.annotate(requireUser(ctx), id(req.id), change)),
        };
      },
      refundTransaction: move(m.refundTransaction, refund),
      payOutWallet: move(m.payOutWallet, payout),
      reverseTransaction: move(m.reverseTransaction, reverse),
    });
}
