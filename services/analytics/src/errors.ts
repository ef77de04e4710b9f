import type { ConnectError } from "@connectrpc/connect";
import { Code } from "@connectrpc/connect";
import { isMoneyError } from "@fintech/money";
import type { Reasons } from "@fintech/platform";
import { connectError } from "@fintech/platform";

/** Every refusal the analytics service can give, named as the public API names it. */
export type AnalyticsErrorReason = Reasons<"VALIDATION_ERROR" | "NOT_FOUND">;

export class AnalyticsError extends Error {
  override readonly name = "AnalyticsError";

  constructor(
    readonly reason: AnalyticsErrorReason,
    message: string,
    readonly details: Record<string, string> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const isAnalyticsError = (e: unknown): e is AnalyticsError =>
  e instanceof Error && e.name === "AnalyticsError";

// A Record over the union: a new reason without a code does not compile.
const codes: Record<AnalyticsErrorReason, Code> = {
  VALIDATION_ERROR: Code.InvalidArgument,
  NOT_FOUND: Code.NotFound,
};

/** The analytics service's one map from domain errors to Connect errors; undefined for anything else. */
export function toConnectError(err: unknown): ConnectError | undefined {
  if (isAnalyticsError(err)) return connectError(codes[err.reason], err.reason, err.message, err.details);
  if (isMoneyError(err)) {
    const details: Record<string, string> = { money_reason: err.reason };
    if (err.field !== undefined) details.field = err.field;
    return connectError(Code.InvalidArgument, "VALIDATION_ERROR", err.message, details);
  }
  return undefined;
}
