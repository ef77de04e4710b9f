import type { PayOutWalletRequestSchema } from "@fintech/proto/fintech/wallet/v1/wallet_pb.js";
import { walletOf } from "../access.js";
import { WalletError } from "../errors.js";
import { external } from "./external.js";
import type { Movement } from "./movement.js";

/**
 * PayOutWallet (admin): pays what is left in a wallet out to `destination` (a withdrawal with the reason), for
 * an owner who no longer moves money themselves; the wallet may be closed. The admin's decision: not scored,
 * and not in the owner's daily limit. An empty amount pays out the whole available balance.
 */
export const payout: Movement<typeof PayOutWalletRequestSchema> = {
  caller: "admin",
  async plan(req, call) {
    const admin = call.principal;
    const wallet = await walletOf(call.users, admin, req.id.toLowerCase(), { forRead: true });
    const owner = await call.users.get(wallet.userId);
    if (owner.status === "active") {
      throw new WalletError("CONFLICT", "the owner is active and withdraws their money themselves", {
        field: "id",
        status: owner.status,
      });
    }
    await call.rates.requireSupported(wallet.currency, "currency");
    let amount: bigint;
    if (req.amount === "") {
      amount = (await call.book.balance(wallet.id)).available;
      if (amount <= 0n) {
        throw new WalletError("CONFLICT", "the wallet has no available balance to pay out", {
          field: "amount",
          wallet_id: wallet.id,
        });
      }
    } else {
      amount = call.positive(req.amount, wallet.currency);
    }
    const plan = await external(call, {
      type: "withdrawal",
      user: owner,
      wallet,
      amount,
      currency: wallet.currency,
      provider: { name: req.destination, field: "destination" },
      reason: req.reason.trim(),
      byOwner: false,
    });
    // Who paid whose money out, beside the transaction's own record (reason, destination).
    call.logger.info(
      { admin_id: admin.userId, user_id: owner.id, wallet_id: wallet.id, transaction_id: call.transactionId },
      "admin payout",
    );
    return plan;
  },
};
