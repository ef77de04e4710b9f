import type { WithdrawFromWalletRequestSchema } from "@fintech/proto/fintech/wallet/v1/wallet_pb.js";
import { ownWallet } from "./external.js";
import type { Movement } from "./movement.js";

/** WithdrawFromWallet: pays money out of the caller's wallet (type withdrawal), to `destination`. */
export const withdraw: Movement<typeof WithdrawFromWalletRequestSchema> = {
  caller: "user",
  plan: (req, call) =>
    ownWallet(
      call,
      { type: "withdrawal", walletId: req.id, amount: req.amount, description: req.description },
      { name: req.destination, field: "destination" },
    ),
};
