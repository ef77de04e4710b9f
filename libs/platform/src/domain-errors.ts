import type { ConnectError } from "@connectrpc/connect";
import { Code } from "@connectrpc/connect";
import { isMoneyError } from "@fintech/money";
import type { ErrorMapper } from "./error-mapping-interceptor.js";
import type { ErrorReason } from "./error-reasons.js";
import { connectError } from "./errors.js";

/** A service's domain error: a public reason, a message for humans and string facts for ErrorInfo metadata. */
export interface DomainError<R extends string> extends Error {
  readonly reason: R;
  readonly details: Record<string, string>;
}

/** The class {@link defineDomainErrors} makes; `cause` is kept for logs and never sent. */
export type DomainErrorClass<R extends string> = new (
  reason: R,
  message: string,
  details?: Record<string, string>,
  options?: { cause?: unknown },
) => DomainError<R>;

/** The reason union of a {@link defineDomainErrors} result: `type FxErrorReason = DomainErrorReason<typeof fx>`. */
export type DomainErrorReason<T> = T extends DomainErrors<infer R> ? R : never;

/** What {@link defineDomainErrors} returns for one service. */
export interface DomainErrors<R extends string> {
  /** `${Context}Error`, the `name` every instance carries and the guard checks. */
  readonly name: string;
  /** The error class the domain code throws. */
  readonly DomainError: DomainErrorClass<R>;
  /** True for an instance of this service's class, from any copy of the module: it checks `name`, not instanceof. */
  readonly is: (e: unknown) => e is DomainError<R>;
  /**
   * The service's one map from errors to Connect errors (createServer's `mapError`): its domain errors get
   * their reason's code, libs/money's errors are InvalidArgument VALIDATION_ERROR, anything else undefined.
   */
  readonly toConnectError: ErrorMapper;
}

/**
 * A libs/money refusal as the API gives it: InvalidArgument "VALIDATION_ERROR" with `money_reason` and, when
 * the money error names one, `field`; undefined for anything that is not a MoneyError.
 */
export function moneyConnectError(err: unknown): ConnectError | undefined {
  if (!isMoneyError(err)) return undefined;
  const details: Record<string, string> = { money_reason: err.reason };
  if (err.field !== undefined) details.field = err.field;
  return connectError(Code.InvalidArgument, "VALIDATION_ERROR", err.message, details);
}

/**
 * One service's domain errors from its reason table: `context` "fx" names the class "FxError", and `codes` maps
 * every reason to its Connect code. Reasons are names from the catalog (proto/fintech/api/v1/errors.proto), so
 * one the catalog lacks does not compile. A Record over the reasons: with an explicit
 * `R`, a reason without a code does not compile. The ErrorInfo sent is the reason with the error's details as
 * metadata and its message as the message.
 */
export function defineDomainErrors<R extends ErrorReason>(
  context: string,
  codes: Record<R, Code>,
): DomainErrors<R> {
  const name = `${context.charAt(0).toUpperCase()}${context.slice(1)}Error`;

  class ContextError extends Error implements DomainError<R> {
    override readonly name: string = name;

    constructor(
      readonly reason: R,
      message: string,
      readonly details: Record<string, string> = {},
      options?: { cause?: unknown },
    ) {
      super(message, options);
    }
  }

  // Logs name an error by its constructor's name (pino's `type`): make it the context's, not "ContextError".
  Object.defineProperty(ContextError, "name", { value: name });

  const is = (e: unknown): e is DomainError<R> => e instanceof Error && e.name === name;

  const toConnectError = (err: unknown): ConnectError | undefined => {
    if (is(err)) return connectError(codes[err.reason], err.reason, err.message, err.details);
    return moneyConnectError(err);
  };

  return { name, DomainError: ContextError, is, toConnectError };
}
