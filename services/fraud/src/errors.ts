import { Code } from "@connectrpc/connect";
import type { DomainError, DomainErrorReason } from "@fintech/platform";
import { defineDomainErrors } from "@fintech/platform";

// The reason table: every refusal the fraud service can give and its Connect code.
const fraudErrors = defineDomainErrors("fraud", {
  VALIDATION_ERROR: Code.InvalidArgument,
  REVIEW_NOT_FOUND: Code.NotFound,
  REVIEW_ALREADY_DECIDED: Code.FailedPrecondition,
  CONFLICT: Code.Aborted,
});

/** Every refusal the fraud service can give, named as the public API names it. */
export type FraudErrorReason = DomainErrorReason<typeof fraudErrors>;
export const FraudError = fraudErrors.DomainError;
export type FraudError = DomainError<FraudErrorReason>;
export const isFraudError = fraudErrors.is;
/** The fraud service's one map from domain errors to Connect errors; undefined for anything else. */
export const toConnectError = fraudErrors.toConnectError;
