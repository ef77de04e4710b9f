import type { ConnectError } from "@connectrpc/connect";
import { Code } from "@connectrpc/connect";
import type { Reasons } from "@fintech/platform";
import { connectError } from "@fintech/platform";

/** Every refusal the identity service can give, named as the public API names it. */
export type IdentityErrorReason = Reasons<
  | "VALIDATION_ERROR"
  | "EMAIL_TAKEN"
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "USER_NOT_ACTIVE"
  | "RATE_LIMITED"
>;

export class IdentityError extends Error {
  override readonly name = "IdentityError";

  constructor(
    readonly reason: IdentityErrorReason,
    message: string,
    readonly details: Record<string, string> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const isIdentityError = (e: unknown): e is IdentityError =>
  e instanceof Error && e.name === "IdentityError";

// A Record over the union: a new reason without a code does not compile.
const codes: Record<IdentityErrorReason, Code> = {
  VALIDATION_ERROR: Code.InvalidArgument,
  EMAIL_TAKEN: Code.AlreadyExists,
  UNAUTHENTICATED: Code.Unauthenticated,
  FORBIDDEN: Code.PermissionDenied,
  NOT_FOUND: Code.NotFound,
  USER_NOT_ACTIVE: Code.FailedPrecondition,
  RATE_LIMITED: Code.ResourceExhausted,
};

/** The identity service's one map from domain errors to Connect errors; undefined for anything else. */
export function toConnectError(err: unknown): ConnectError | undefined {
  if (isIdentityError(err)) return connectError(codes[err.reason], err.reason, err.message, err.details);
  return undefined;
}
