import { formatAmount } from "@fintech/money";
import type { RefundTransactionRequestSchema } from "@fintech/proto/fintech/wallet/v1/wallet_pb.js";
import { transactionOf } from "../access.js";
import { WalletError } from "../errors.js";
import { publishTransactions } from "../events.js";
import { move, refundShare } from "../legs.js";
import { store } from "../store.js";
import type { Movement } from "./movement.js";

/**
 * RefundTransaction: gives a completed purchase back, in full (no amount) or in part (type refund), at the
 * purchase's own rate. The purchase is locked while the refund is recorded, so concurrent refunds never add up
 * to more than it; its refunded_amount grows with the refund and is published (wallet.transaction.refunded).
 */
export const refund: Movement<typeof RefundTransactionRequestSchema> = {
  caller: "user",
  async plan(req, call) {
    const p = call.principal;
    const purchase = await transactionOf(call.pool, p, req.id.toLowerCase());
    const refusable = (why: string, message: string, details: Record<string, string> = {}) =>
      new WalletError("REFUND_NOT_ALLOWED", message, {
        reason: why,
        transaction_id: purchase.id,
        ...details,
      });
    if (purchase.type !== "purchase") throw refusable("not_a_purchase", "only purchases can be refunded");
    const owner = await call.users.get(purchase.userId);
    if (p.userId === purchase.userId && owner.status !== "active") {
      throw new WalletError("USER_NOT_ACTIVE", `the user is ${owner.status}`, { status: owner.status });
    }
    const requested = req.amount === "" ? undefined : call.positive(req.amount, purchase.currency);
    return {
      kind: "create-under-lock",
      lock: purchase.id,
      async plan(original, db) {
        if (original.status !== "completed") {
          throw refusable(
            "not_completed",
            `only completed purchases can be refunded; this one is ${original.status}`,
          );
        }
        const refundable = original.amount - original.refundedAmount;
        const value = requested ?? refundable;
        if (value <= 0n || value > refundable) {
          throw refusable(
            refundable === 0n ? "fully_refunded" : "exceeds_refundable",
            `at most ${formatAmount(refundable, original.currency)} ${original.currency} can still be refunded`,
            {
              refundable: formatAmount(refundable, original.currency),
              requested: formatAmount(value, original.currency),
            },
          );
        }
        const share = refundShare(original.chargedAmount, original.amount, original.refundedAmount, value);
        if (share <= 0n) {
          throw refusable("too_small", "the refund is smaller than the wallet currency's smallest unit");
        }
        const wallet = await store.getWallet(db, original.walletId);
        if (wallet === undefined) throw new WalletError("NOT_FOUND", `wallet ${original.walletId} not found`);
        const legs = await call.legs(
          move(call.outside("merchant_clearing", value, original.currency), call.walletSide(wallet, share)),
        );
        const t = call.draft(owner, {
          type: "refund",
          walletId: wallet.id,
          amount: value,
          currency: original.currency,
          chargedAmount: share,
          chargedCurrency: wallet.currency,
          rate: original.rate,
          baseAmount: refundShare(original.baseAmount, original.amount, original.refundedAmount, value),
          merchantName: original.merchantName,
          merchantCategory: original.merchantCategory,
          originalTransactionId: original.id,
          reason: req.reason,
          legs,
        });
        return {
          rows: [t],
          async alongside(tx, now) {
            const updated = await store.addRefunded(tx, original.id, value, now);
            if (updated !== undefined) await publishTransactions(tx, "refunded", [updated], now);
          },
        };
      },
    };
  },
};
