import type { FundWalletRequestSchema } from "@fintech/proto/fintech/wallet/v1/wallet_pb.js";
import { ownWallet } from "./external.js";
import type { Movement } from "./movement.js";

/** FundWallet: tops the caller's wallet up from outside (type top_up), from `source`. */
export const fund: Movement<typeof FundWalletRequestSchema> = {
  caller: "user",
  plan: (req, call) =>
    ownWallet(
      call,
      { type: "top_up", walletId: req.id, amount: req.amount, description: req.description },
      { name: req.source, field: "source" },
    ),
};
