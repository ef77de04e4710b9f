import type { MessageInitShape } from "@bufbuild/protobuf";
import type { Code } from "@connectrpc/connect";
import { ConnectError } from "@connectrpc/connect";
import { ErrorInfoSchema } from "@fintech/proto/google/rpc/error_details_pb.js";

/** ErrorInfo domain used when neither the caller nor a server names one. */
export const DEFAULT_ERROR_DOMAIN = "fintech";

type ErrorInfoInit = MessageInitShape<typeof ErrorInfoSchema>;

// Errors built without an explicit domain; the server that sends one stamps its own name into the detail.
const withoutDomain = new WeakMap<ConnectError, ErrorInfoInit>();

/** Options for {@link connectError}. */
export interface ConnectErrorOptions {
  /**
   * google.rpc.ErrorInfo domain. Default: the name of the server (createServer's `name`) that sends the error,
   * or "fintech" when it never passes through one.
   */
  domain?: string;
  /** The underlying error, kept as `cause` for logs; never sent to the client. */
  cause?: unknown;
}

/**
 * A ConnectError carrying a google.rpc.ErrorInfo detail, the shape every service uses for domain errors:
 * `reason` is a stable UPPER_SNAKE identifier clients branch on (e.g. "INSUFFICIENT_BALANCE"), `metadata` holds
 * structured facts as strings (e.g. `{ available_balance: "10.00" }`), `message` is for humans.
 */
export function connectError(
  code: Code,
  reason: string,
  message: string,
  metadata: Record<string, string> = {},
  options: ConnectErrorOptions = {},
): ConnectError {
  const info: ErrorInfoInit = { reason, domain: options.domain ?? DEFAULT_ERROR_DOMAIN, metadata };
  const err = new ConnectError(
    message,
    code,
    undefined,
    [{ desc: ErrorInfoSchema, value: info }],
    options.cause,
  );
  if (options.domain === undefined) {
    withoutDomain.set(err, info);
  }
  return err;
}

/** Sets the ErrorInfo domain of an error made by {@link connectError} without an explicit domain. */
export function stampErrorDomain(err: ConnectError, domain: string): void {
  const info = withoutDomain.get(err);
  if (info !== undefined) {
    info.domain = domain;
    withoutDomain.delete(err);
  }
}

/** The google.rpc.ErrorInfo of an error, local or received over the wire, or undefined when it has none. */
export function errorInfoOf(
  err: ConnectError,
): { reason: string; domain: string; metadata: Record<string, string> } | undefined {
  const [info] = err.findDetails(ErrorInfoSchema);
  if (info === undefined) {
    return undefined;
  }
  return { reason: info.reason, domain: info.domain, metadata: { ...info.metadata } };
}
