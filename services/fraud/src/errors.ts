import type { ConnectError } from "@connectrpc/connect";
import { Code } from "@connectrpc/connect";
import { isMoneyError } from "@fintech/money";
import type { Reasons } from "@fintech/platform";
import { connectError } from "@fintech/platform";

/** Every refusal the fraud service can give, named as the public API names it. */
export type FraudErrorReason = Reasons<
  "VALIDATION_ERROR" | "REVIEW_NOT_FOUND" | "REVIEW_ALREADY_DECIDED" | "CONFLICT"
>;

export class FraudError extends Error {
  override readonly name = "FraudError";

  constructor(
    readonly reason: FraudErrorReason,
    message: string,
    readonly details: Record<string, string> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const isFraudError = (e: unknown): e is FraudError => e instanceof Error && e.name === "FraudError";

// A Record over the union: a new reason without a code does not compile.
const codes: Record<FraudErrorReason, Code> = {
  VALIDATION_ERROR: Code.InvalidArgument,
  REVIEW_NOT_FOUND: Code.NotFound,
  REVIEW_ALREADY_DECIDED: Code.FailedPrecondition,
  CONFLICT: Code.Aborted,
};

/** The fraud service's one map from domain errors to Connect errors; undefined for anything else. */
export function toConnectError(err: unknown): ConnectError | undefined {
  if (isFraudError(err)) return connectError(codes[err.reason], err.reason, err.message, err.details);
  if (isMoneyError(err)) {
    const details: Record<string, string> = { money_reason: err.reason };
    if (err.field !== undefined) details.field = err.field;
    return connectError(Code.InvalidArgument, "VALIDATION_ERROR", err.message, details);
  }
  return undefined;
}
