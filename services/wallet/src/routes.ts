import type { DescMessage, DescMethodUnary, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import type { UserPrincipal } from "@fintech/auth";
import { requireAdmin, requireUser } from "@fintech/auth";
import { formatAmount } from "@fintech/money";
import { getRequestId } from "@fintech/platform";
import { TransactionStatus, TransactionType } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import { WalletService } from "@fintech/proto/fintech/wallet/v1/wallet_pb.js";
import { comparableRequest } from "./comparable-request.js";
import type { Idempotency, KeyBinding } from "./idempotency.js";
import { IDEMPOTENCY_KEY_HEADER, REPLAYED_HEADER } from "./idempotency.js";
import type { ListParams } from "./list-query.js";
import { balanceMessage, transactionMessage, walletMessage } from "./messages.js";
import type { TransactionStatus as Status, Transaction, TransactionType as Type } from "./model.js";
import type { Page, WalletService as Wallets } from "./wallet-service.js";

// The RPC surface: decimal strings and proto messages at the edge, the domain in between. Requests have
// passed the auth interceptor and validation.ts. Every caller is a user; money-moving RPCs honour the
// idempotency-key header.

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

  /**
   * Runs a handler under the request's idempotency key, when it has one: a repeat gets the first answer
   * again, with `idempotent-replayed: true`. A money-moving handler creates its transaction under the key's
   * binding and gives `resume`, which answers that transaction when an earlier attempt recorded it.
   */
  async function once<I extends DescMessage, O extends DescMessage>(
    ctx: HandlerContext,
    p: UserPrincipal,
    method: DescMethodUnary<I, O>,
    req: MessageShape<I>,
    fn: (binding?: KeyBinding) => Promise<MessageInitShape<O>>,
    resume?: (transactionId: string) => Promise<MessageInitShape<O> | undefined>,
  ): Promise<MessageShape<O>> {
    const key = ctx.requestHeader.get(IDEMPOTENCY_KEY_HEADER);
    if (key === null) return create(method.output, await fn());
    const { response, replayed } = await idempotency.run(
      {
        principal: `user:${p.userId}`,
        key,
        method: `${method.parent.typeName}/${method.name}`,
        input: method.input,
        request: comparableRequest(method.input, req),
        output: method.output,
        requestId: getRequestId(ctx),
        // The gateway's deadline: a repeat must answer IDEMPOTENCY_KEY_IN_USE before the gateway gives up.
        timeoutMs: ctx.timeoutMs(),
        ...(resume !== undefined && {
          resume: async (transactionId: string) => {
            const earlier = await resume(transactionId);
            return earlier === undefined ? undefined : create(method.output, earlier);
          },
        }),
      },
      async (binding) => create(method.output, await fn(binding)),
    );
    if (replayed) ctx.responseHeader.set(REPLAYED_HEADER, "true");
    return response;
  }

  const m = WalletService.method;
  /** Every money-moving RPC answers `{ transaction }`. */
  const answer = (t: Transaction) => ({ transaction: transactionMessage(t) });
  /** The answer for the transaction an earlier attempt under the same key recorded, if it did. */
  const resumed = async (transactionId: string) => {
    const t = await movements.resume(transactionId);
    return t === undefined ? undefined : answer(t);
  };

  return (router: ConnectRouter) =>
    router.service(WalletService, {
      async createWallet(req, ctx) {
        const p = requireUser(ctx);
        return once(ctx, p, m.createWallet, req, async () => ({
          wallet: walletMessage(await wallets.createWallet(p, req.currency)),
        }));
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
      async fundWallet(req, ctx) {
        const p = requireUser(ctx);
        return once(
          ctx,
          p,
          m.fundWallet,
          req,
          async (binding) =>
            answer(await movements.fund(p, id(req.id), req.amount, req.source, req.description, binding)),
          resumed,
        );
      },
      async withdrawFromWallet(req, ctx) {
        const p = requireUser(ctx);
        return once(
          ctx,
          p,
          m.withdrawFromWallet,
          req,
          async (binding) =>
            answer(
              await movements.withdraw(p, id(req.id), req.amount, req.destination, req.description, binding),
            ),
          resumed,
        );
      },
      async convertCurrency(req, ctx) {
        const p = requireUser(ctx);
        return once(
          ctx,
          p,
          m.convertCurrency,
          req,
          async (binding) =>
            answer(await movements.convert(p, id(req.id), req.toCurrency, req.amount, binding)),
          resumed,
        );
      },
      async listWalletTransactions(req, ctx) {
        return transactionsPage(
          await wallets.listWalletTransactions(requireUser(ctx), id(req.id), listParams(req)),
        );
      },
      async createTransfer(req, ctx) {
        const p = requireUser(ctx);
        return once(
          ctx,
          p,
          m.createTransfer,
          req,
          async (binding) =>
            answer(
              await movements.transfer(
                p,
                {
                  fromWalletId: req.fromWalletId,
                  toWalletId: req.toWalletId,
                  amount: req.amount,
                  currency: req.currency,
                  description: req.description,
                },
                binding,
              ),
            ),
          resumed,
        );
      },
      async createTransaction(req, ctx) {
        const p = requireUser(ctx);
        // validation.ts let only purchase, top_up and withdrawal through.
        const type = TYPES[req.transactionType] as "purchase" | "top_up" | "withdrawal";
        return once(
          ctx,
          p,
          m.createTransaction,
          req,
          async (binding) => {
            const input = {
              type,
              amount: req.amount,
              currency: req.currency,
              merchantName: req.merchantName,
              merchantCategory: req.merchantCategory,
              description: req.description,
            };
            return answer(
              await movements.pay(
                p,
                req.walletId === "" ? input : { ...input, walletId: req.walletId },
                binding,
              ),
            );
          },
          resumed,
        );
      },
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
      async refundTransaction(req, ctx) {
        const p = requireUser(ctx);
        return once(
          ctx,
          p,
          m.refundTransaction,
          req,
          async (binding) => answer(await movements.refund(p, id(req.id), req.amount, req.reason, binding)),
          resumed,
        );
      },
      async payOutWallet(req, ctx) {
        const p = requireAdmin(ctx);
        return once(
          ctx,
          p,
          m.payOutWallet,
          req,
          async (binding) =>
            answer(
              await movements.payOut(
                p,
                id(req.id),
                { amount: req.amount, destination: req.destination, reason: req.reason.trim() },
                binding,
              ),
            ),
          resumed,
        );
      },
      async reverseTransaction(req, ctx) {
        const p = requireAdmin(ctx);
        return once(
          ctx,
          p,
          m.reverseTransaction,
          req,
          async (binding) => answer(await movements.reverse(p, id(req.id), req.reason.trim(), binding)),
          resumed,
        );
      },
    });
}
