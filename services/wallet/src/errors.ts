import { Code, ConnectError } from "@connectrpc/connect";
import type { DomainError, DomainErrorReason } from "@fintech/platform";
import { defineDomainErrors } from "@fintech/platform";

// The reason table: every refusal the wallet service can give and its Connect code.
// The gateway answers by reason (docs/api.md's table), so the codes matter to gRPC clients only.
const walletErrors = defineDomainErrors("wallet", {
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
});

/** Every refusal the wallet service can give, named as the public API names it. */
export type WalletErrorReason = DomainErrorReason<typeof walletErrors>;
export const WalletError = walletErrors.DomainError;
export type WalletError = DomainError<WalletErrorReason>;
export const isWalletError = walletErrors.is;
/** The wallet service's one map from domain errors to Connect errors; undefined for anything else. */
export const toConnectError = walletErrors.toConnectError;

/** A refusal naming the request field at fault. */
export const invalid = (field: string, message: string): WalletError =>
  new WalletError("VALIDATION_ERROR", `${field}: ${message}`, { field });

/** True for errors worth retrying later (a backend down or slow), not a bug or a refusal. */
export function isTransient(err: unknown): boolean {
  return (
    err instanceof ConnectError &&
    (err.code === Code.Unavailable || err.code === Code.DeadlineExceeded || err.code === Code.Canceled)
  );
}
