import { Code } from "@connectrpc/connect";
import type { DomainError, DomainErrorReason } from "@fintech/platform";
import { defineDomainErrors } from "@fintech/platform";

// The reason table: every refusal the fx service can give and its Connect code.
const fxErrors = defineDomainErrors("fx", {
  VALIDATION_ERROR: Code.InvalidArgument,
  CURRENCY_NOT_SUPPORTED: Code.FailedPrecondition,
  RATE_NOT_AVAILABLE: Code.FailedPrecondition,
  AMOUNT_TOO_SMALL: Code.FailedPrecondition,
  QUOTE_NOT_FOUND: Code.NotFound,
  QUOTE_EXPIRED: Code.FailedPrecondition,
  QUOTE_ALREADY_REDEEMED: Code.FailedPrecondition,
});

/** Every refusal the fx service can give, named as the public API names it. */
export type FxErrorReason = DomainErrorReason<typeof fxErrors>;
export const FxError = fxErrors.DomainError;
export type FxError = DomainError<FxErrorReason>;
export const isFxError = fxErrors.is;
/** The fx service's one map from domain errors to Connect errors; undefined for anything else. */
export const toConnectError = fxErrors.toConnectError;
