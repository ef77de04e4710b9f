import type { CreateTransferRequestSchema } from "@fintech/proto/fintech/wallet/v1/wallet_pb.js";
import { activeUser, requireOpen, walletOf } from "../access.js";
import { invalid, WalletError } from "../errors.js";
import { betweenWallets } from "./between-wallets.js";
import type { Movement } from "./movement.js";

/**
 * CreateTransfer: sends money from the caller's wallet to any open wallet (type transfer), in the sending
 * wallet's currency, through fx when the receiving wallet's differs.
 */
export const transfer: Movement<typeof CreateTransferRequestSchema> = {
  caller: "user",
  async plan(req, call) {
    const user = await activeUser(call.users, call.principal.userId);
    const from = await walletOf(call.users, call.principal, req.fromWalletId.toLowerCase(), {
      field: "from_wallet_id",
    });
    requireOpen(from, "from_wallet_id");
    const to = await call.users.wallet(req.toWalletId.toLowerCase());
    if (to === undefined) {
      throw new WalletError("NOT_FOUND", `wallet ${req.toWalletId} not found`, { field: "to_wallet_id" });
    }
    if (to.id === from.id) throw invalid("to_wallet_id", "must differ from from_wallet_id");
    const recipient = await call.users.get(to.userId);
    if (recipient.status === "closed" || recipient.status === "deleted" || to.status !== "active") {
      throw new WalletError("USER_NOT_ACTIVE", "the receiving user's account is closed", {
        field: "to_wallet_id",
        status: recipient.status,
      });
    }
    const currency = req.currency === "" ? from.currency : req.currency.toUpperCase();
    if (currency !== from.currency) {
      throw invalid("currency", `must be the sending wallet's currency (${from.currency})`);
    }
    const amount = call.positive(req.amount, from.currency);
    return betweenWallets(call, {
      type: "transfer",
      user,
      from,
      to,
      amount,
      description: req.description,
      toField: "to_wallet_id",
    });
  },
};
