import { Code } from "@connectrpc/connect";
import type { DomainError, DomainErrorReason } from "@fintech/platform";
import { defineDomainErrors } from "@fintech/platform";

// The reason table: every refusal the analytics service can give and its Connect code.
const analyticsErrors = defineDomainErrors("analytics", {
  VALIDATION_ERROR: Code.InvalidArgument,
  NOT_FOUND: Code.NotFound,
});

/** Every refusal the analytics service can give, named as the public API names it. */
export type AnalyticsErrorReason = DomainErrorReason<typeof analyticsErrors>;
export const AnalyticsError = analyticsErrors.DomainError;
export type AnalyticsError = DomainError<AnalyticsErrorReason>;
export const isAnalyticsError = analyticsErrors.is;
/** The analytics service's one map from domain errors to Connect errors; undefined for anything else. */
export const toConnectError = analyticsErrors.toConnectError;
