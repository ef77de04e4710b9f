import { TransactionType } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import type { CreateTransactionRequestSchema } from "@fintech/proto/fintech/wallet/v1/wallet_pb.js";
import { activeUser, requireOpen, walletOf } from "../access.js";
import { invalid, WalletError } from "../errors.js";
import type { User, Wallet } from "../model.js";
import { store } from "../store.js";
import { external } from "./external.js";
import type { Call, Movement } from "./movement.js";

/** The types CreateTransaction takes (validation.ts lets no other through). */
const TYPES: Partial<Record<TransactionType, "purchase" | "top_up" | "withdrawal">> = {
  [TransactionType.PURCHASE]: "purchase",
  [TransactionType.TOP_UP]: "top_up",
  [TransactionType.WITHDRAWAL]: "withdrawal",
};

/** The wallet a payment without wallet_id uses: the one in its currency, else the default one. */
async function chooseWallet(call: Call, user: User, currency: string): Promise<Wallet> {
  const wallets = await store.walletsOf(call.pool, user.id);
  const w =
    wallets.find((x) => x.currency === currency && x.status === "active") ??
    wallets.find((x) => x.isDefault && x.status === "active");
  if (w === undefined)
    throw new WalletError("NOT_FOUND", "the user has no wallet to pay with", { field: "wallet_id" });
  return w;
}

/**
 * CreateTransaction: a purchase, top-up or withdrawal in any supported currency, the wallet charged at the
 * current mid rate. Without wallet_id the wallet in that currency pays, else the default one.
 */
export const payment: Movement<typeof CreateTransactionRequestSchema> = {
  caller: "user",
  claimKeyWithRecord: true,
  async plan(req, call) {
    const type = TYPES[req.transactionType];
    if (type === undefined) throw invalid("transaction_type", "must be one of: purchase, top_up, withdrawal");
    const user = await activeUser(call.users, call.principal.userId);
    const currency = req.currency.toUpperCase();
    await call.rates.requireSupported(currency, "currency");
    const amount = call.positive(req.amount, currency);
    const wallet =
      req.walletId === ""
        ? await chooseWallet(call, user, currency)
        : await walletOf(call.users, call.principal, req.walletId.toLowerCase(), { field: "wallet_id" });
    requireOpen(wallet, "wallet_id");
    return external(call, {
      type,
      user,
      wallet,
      amount,
      currency,
      ...(type === "purchase" && { merchant: { name: req.merchantName, category: req.merchantCategory } }),
      description: req.description,
    });
  },
};
