import type { ConnectError } from "@connectrpc/connect";
import { Code } from "@connectrpc/connect";
import { isMoneyError } from "@fintech/money";
import type { Reasons } from "@fintech/platform";
import { connectError } from "@fintech/platform";

/** Every refusal the fx service can give, named as the public API names it. */
export type FxErrorReason = Reasons<
  | "VALIDATION_ERROR"
  | "CURRENCY_NOT_SUPPORTED"
  | "RATE_NOT_AVAILABLE"
  | "AMOUNT_TOO_SMALL"
  | "QUOTE_NOT_FOUND"
  | "QUOTE_EXPIRED"
  | "QUOTE_ALREADY_REDEEMED"
>;

export class FxError extends Error {
  override readonly name = "FxError";

  constructor(
    readonly reason: FxErrorReason,
    message: string,
    readonly details: Record<string, string> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const isFxError = (e: unknown): e is FxError => e instanceof Error && e.name === "FxError";

// A Record over the union: a new reason without a code does not compile.
const codes: Record<FxErrorReason, Code> = {
  VALIDATION_ERROR: Code.InvalidArgument,
  CURRENCY_NOT_SUPPORTED: Code.FailedPrecondition,
  RATE_NOT_AVAILABLE: Code.FailedPrecondition,
  AMOUNT_TOO_SMALL: Code.FailedPrecondition,
  QUOTE_NOT_FOUND: Code.NotFound,
  QUOTE_EXPIRED: Code.FailedPrecondition,
  QUOTE_ALREADY_REDEEMED: Code.FailedPrecondition,
};

/** The fx service's one map from domain errors to Connect errors; undefined for anything else. */
export function toConnectError(err: unknown): ConnectError | undefined {
  if (isFxError(err)) return connectError(codes[err.reason], err.reason, err.message, err.details);
  if (isMoneyError(err)) {
    const details: Record<string, string> = { money_reason: err.reason };
    if (err.field !== undefined) details.field = err.field;
    return connectError(Code.InvalidArgument, "VALIDATION_ERROR", err.message, details);
  }
  return undefined;
}
