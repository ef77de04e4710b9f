import { Code } from "@connectrpc/connect";
import type { DomainError, DomainErrorReason } from "@fintech/platform";
import { defineDomainErrors } from "@fintech/platform";

// The reason table: every refusal the notifications service can give and its Connect code.
const notificationsErrors = defineDomainErrors("notifications", {
  VALIDATION_ERROR: Code.InvalidArgument,
  NOT_FOUND: Code.NotFound,
  FORBIDDEN: Code.PermissionDenied,
});

/** Every refusal the notifications service can give, named as the public API names it. */
export type NotificationsErrorReason = DomainErrorReason<typeof notificationsErrors>;
export const NotificationsError = notificationsErrors.DomainError;
export type NotificationsError = DomainError<NotificationsErrorReason>;
export const isNotificationsError = notificationsErrors.is;
/** The notifications service's one map from domain errors to Connect errors; undefined for anything else. */
export const toConnectError = notificationsErrors.toConnectError;
