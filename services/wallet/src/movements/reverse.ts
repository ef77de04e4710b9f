import { formatAmount } from "@fintech/money";
import type { ReverseTransactionRequestSchema } from "@fintech/proto/fintech/wallet/v1/wallet_pb.js";
import { transactionOf } from "../access.js";
import { WalletError } from "../errors.js";
import type { Movement } from "./movement.js";

/**
 * ReverseTransaction (admin): undoes a completed transaction by mirroring its ledger legs. A transfer is
 * reversed from either side; a purchase with refunds is refused (refund the rest instead).
 */
export const reverse: Movement<typeof ReverseTransactionRequestSchema> = {
  caller: "admin",
  async plan(req, call) {
    const asked = await transactionOf(call.pool, call.principal, req.id.toLowerCase());
    return {
      kind: "reverse",
      lock:
        asked.direction === "incoming" && asked.relatedTransactionId ? asked.relatedTransactionId : asked.id,
      answer: asked.id,
      reason: req.reason.trim(),
      check(t) {
        if (t.status !== "completed") {
          throw new WalletError(
            "CONFLICT",
            `only completed transactions can be reversed; this one is ${t.status}`,
            { status: t.status },
          );
        }
        if (t.type === "purchase" && t.refundedAmount > 0n) {
          throw new WalletError(
            "CONFLICT",
            "a purchase with refunds cannot be reversed; refund the rest instead",
            { refunded_amount: formatAmount(t.refundedAmount, t.currency) },
          );
        }
      },
    };
  },
};
