import type { ConvertCurrencyRequestSchema } from "@fintech/proto/fintech/wallet/v1/wallet_pb.js";
import { activeUser, requireOpen, walletOf } from "../access.js";
import { invalid } from "../errors.js";
import { betweenWallets } from "./between-wallets.js";
import type { Movement } from "./movement.js";

/**
 * ConvertCurrency: moves money between two of the caller's wallets (type conversion) at an fx quote, opening
 * the wallet in `to_currency` if needed.
 */
export const convert: Movement<typeof ConvertCurrencyRequestSchema> = {
  caller: "user",
  async plan(req, call) {
    const user = await activeUser(call.users, call.principal.userId);
    const from = await walletOf(call.users, call.principal, req.id.toLowerCase());
    requireOpen(from);
    const target = req.toCurrency.toUpperCase();
    if (target === from.currency) throw invalid("to_currency", "must differ from the wallet's currency");
    await call.rates.requireSupported(target, "to_currency");
    const amount = call.positive(req.amount, from.currency);
    const { wallet: to } = await call.users.openWallet(call.pool, user.id, target, false);
    requireOpen(to, "to_currency");
    return betweenWallets(call, {
      type: "conversion",
      user,
      from,
      to,
      amount,
      description: "",
      toField: "to_currency",
    });
  },
};
