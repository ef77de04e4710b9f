import type { ConnectError } from "@connectrpc/connect";
import { Code } from "@connectrpc/connect";
import { isMoneyError } from "@fintech/money";
import type { Reasons } from "@fintech/platform";
import { connectError } from "@fintech/platform";

/** Every refusal the wallet service can give, named as the public API names it. */
export type WalletErrorReason = Reasons<
  | "VALIDATION_ERROR"
  | "NOT_FOUND"
  | "FORBIDDEN"
  | "WALLET_EXISTS"
  | "CURRENCY_NOT_SUPPORTED"
  | "USER_NOT_ACTIVE"
  | "INSUFFICIENT_BALANCE"
  | "LIMIT_EXCEEDED"
  | "REFUND_NOT_ALLOWED"
  | "TRANSACTION_DECLINED"
  | "CONFLICT"
  | "IDEMPOTENCY_KEY_REUSED"
  | "IDEMPOTENCY_KEY_IN_USE"
  | "UNAVAILABLE"
>;

export class WalletError extends Error {
  override readonly name = "WalletError";

  constructor(
    readonly reason: WalletErrorReason,
    message: string,
    readonly details: Record<string, string> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const isWalletError = (e: unknown): e is WalletError => e instanceof Error && e.name === "WalletError";

// A Record over the union: a new reason without a code does not compile. The gateway answers by reason
// (docs/api.md's table), so the codes matter to gRPC clients only.
export const walletErrorCodes: Record<WalletErrorReason, Code> = {
  VALIDATION_ERROR: Code.InvalidArgument,
  NOT_FOUND: Code.NotFound,
  FORBIDDEN: Code.PermissionDenied,
  WALLET_EXISTS: Code.AlreadyExists,
  CURRENCY_NOT_SUPPORTED: Code.FailedPrecondition,
  USER_NOT_ACTIVE: Code.FailedPrecondition,
  INSUFFICIENT_BALANCE: Code.FailedPrecondition,
  LIMIT_EXCEEDED: Code.FailedPrecondition,
  REFUND_NOT_ALLOWED: Code.FailedPrecondition,
  TRANSACTION_DECLINED: Code.FailedPrecondition,
  CONFLICT: Code.Aborted,
  IDEMPOTENCY_KEY_REUSED: Code.FailedPrecondition,
  IDEMPOTENCY_KEY_IN_USE: Code.Aborted,
  UNAVAILABLE: Code.Unavailable,
};

/** The wallet service's one map from domain errors to Connect errors; undefined for anything else. */
export function toConnectError(err: unknown): ConnectError | undefined {
  if (isWalletError(err))
    return connectError(walletErrorCodes[err.reason], err.reason, err.message, err.details);
  if (isMoneyError(err)) {
    const details: Record<string, string> = { money_reason: err.reason };
    if (err.field !== undefined) details.field = err.field;
    return connectError(Code.InvalidArgument, "VALIDATION_ERROR", err.message, details);
  }
  return undefined;
}

/** A refusal naming the request field at fault. */
export const invalid = (field: string, message: string): WalletError =>
  new WalletError("VALIDATION_ERROR", `${field}: ${message}`, { field });
