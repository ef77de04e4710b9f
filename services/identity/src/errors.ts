import { Code } from "@connectrpc/connect";
import type { DomainError, DomainErrorReason } from "@fintech/platform";
import { defineDomainErrors } from "@fintech/platform";

// The reason table: every refusal the identity service can give and its Connect code.
const identityErrors = defineDomainErrors("identity", {
  VALIDATION_ERROR: Code.InvalidArgument,
  EMAIL_TAKEN: Code.AlreadyExists,
  UNAUTHENTICATED: Code.Unauthenticated,
  FORBIDDEN: Code.PermissionDenied,
  NOT_FOUND: Code.NotFound,
  USER_NOT_ACTIVE: Code.FailedPrecondition,
  RATE_LIMITED: Code.ResourceExhausted,
});

/** Every refusal the identity service can give, named as the public API names it. */
export type IdentityErrorReason = DomainErrorReason<typeof identityErrors>;
export const IdentityError = identityErrors.DomainError;
export type IdentityError = DomainError<IdentityErrorReason>;
export const isIdentityError = identityErrors.is;
/** The identity service's one map from domain errors to Connect errors; undefined for anything else. */
export const toConnectError = identityErrors.toConnectError;
