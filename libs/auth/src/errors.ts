import type { ConnectError } from "@connectrpc/connect";
import { Code } from "@connectrpc/connect";
import type { ErrorReason } from "@fintech/platform";
import { connectError } from "@fintech/platform";

/** ErrorInfo reason of every missing or rejected credential (HTTP 401 at the gateway). */
export const UNAUTHENTICATED = "UNAUTHENTICATED" satisfies ErrorReason;
/** ErrorInfo reason of a known caller lacking a role or being the wrong kind of caller (HTTP 403). */
export const FORBIDDEN = "FORBIDDEN" satisfies ErrorReason;

/**
 * Unauthenticated with reason UNAUTHENTICATED. `message` must never contain the credential itself;
 * `cause` is kept for logs only.
 */
export function unauthenticated(message: string, cause?: unknown): ConnectError {
  return connectError(Code.Unauthenticated, UNAUTHENTICATED, message, {}, { cause });
}

/** PermissionDenied with reason FORBIDDEN. */
export function forbidden(message: string): ConnectError {
  return connectError(Code.PermissionDenied, FORBIDDEN, message);
}
