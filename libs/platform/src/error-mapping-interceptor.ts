import type { Interceptor } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import { isTransientDbError } from "@fintech/db";
import type { Logger } from "pino";
import type { ErrorReason } from "./error-reasons.js";
import { connectError, errorInfoOf, stampErrorDomain } from "./errors.js";
import { requestIdKey } from "./request-id.js";

/** Turns a service's domain error into the ConnectError to send, or undefined when it does not know the error. */
export type ErrorMapper = (err: unknown) => ConnectError | undefined;

type Next = Parameters<Interceptor>[0];
type AnyRequest = Parameters<Next>[0];

/** The ErrorInfo reason of a failure that a retry a moment later can fix (the gateway answers it 503). */
export const UNAVAILABLE_REASON = "UNAVAILABLE" satisfies ErrorReason;
/** The ErrorInfo reason of a failure nobody planned for (the gateway answers it 500). */
export const INTERNAL_REASON = "INTERNAL" satisfies ErrorReason;

/**
 * Codes connect-node's client gives a call that never got an answer: the peer refused, reset or died, or the
 * HTTP/2 stream was cancelled or refused under it (see connectErrorFromNodeReason/connectErrorFromH2ResetCode).
 */
const TRANSPORT_CODES: ReadonlySet<Code> = new Set([
  Code.Canceled,
  Code.Aborted,
  Code.Unavailable,
  Code.Internal,
  Code.Unknown,
]);

/**
 * True for a ConnectError that a client made because no answer came: it has no ErrorInfo and no response
 * headers (an answer always has a content-type, a gRPC one a grpc-status), and its code is one a dying or
 * refusing peer produces. A DeadlineExceeded is not one: the peer may still be working.
 */
export function isTransportFailure(err: ConnectError): boolean {
  return (
    TRANSPORT_CODES.has(err.code) &&
    errorInfoOf(err) === undefined &&
    !err.metadata.has("content-type") &&
    !err.metadata.has("grpc-status")
  );
}

/**
 * Makes sure nothing but a deliberate ConnectError leaves the server: ConnectErrors pass (their ErrorInfo gets
 * the server's name as domain when none was given), other errors go through `mapError`; a database that is
 * unreachable or went away (isTransientDbError) and a call to another service that got no answer become
 * Unavailable "UNAVAILABLE", logged at warn without a stack (an outage would otherwise write one per request);
 * whatever is left is logged at error level with its stack and answered as Internal "INTERNAL" ("internal
 * error"), so no internals leak.
 */
export function createErrorMappingInterceptor(opts: {
  logger: Logger;
  domain: string;
  mapError?: ErrorMapper | undefined;
}): Interceptor {
  const unavailable = (err: unknown, req: AnyRequest, message: string): ConnectError => {
    opts.logger.warn({ error: summary(err), ...where(req) }, message);
    const out = connectError(
      Code.Unavailable,
      UNAVAILABLE_REASON,
      `${message}, try again`,
      {},
      {
        cause: err,
      },
    );
    stampErrorDomain(out, opts.domain);
    return out;
  };

  const toConnectError = (err: unknown, req: AnyRequest): ConnectError => {
    if (req.signal.aborted) {
      // The handler failed because the call was cancelled or timed out; the reason says which.
      return err instanceof ConnectError ? err : ConnectError.from(req.signal.reason, Code.Canceled);
    }
    if (err instanceof ConnectError) {
      // A call this handler made to another service died on the way: its caller can retry, not give up.
      if (isTransportFailure(err)) return unavailable(err, req, "a dependency is unavailable");
      stampErrorDomain(err, opts.domain);
      return err;
    }
    let mapped: ConnectError | undefined;
    try {
      mapped = opts.mapError?.(err);
    } catch (mapErr) {
      opts.logger.error({ err: mapErr, ...where(req) }, "mapError threw");
    }
    if (mapped !== undefined) {
      stampErrorDomain(mapped, opts.domain);
      mapped.cause ??= err;
      return mapped;
    }
    if (isTransientDbError(err)) return unavailable(err, req, "the database is unavailable");
    opts.logger.error({ err, ...where(req) }, "unhandled error in RPC handler");
    const internal = connectError(Code.Internal, INTERNAL_REASON, "internal error", {}, { cause: err });
    stampErrorDomain(internal, opts.domain);
    return internal;
  };

  return (next) => async (req) => {
    try {
      const res = await next(req);
      if (!res.stream) {
        return res;
      }
      return { ...res, message: mapStreamErrors(res.message, (err) => toConnectError(err, req)) };
    } catch (err) {
      throw toConnectError(err, req);
    }
  };
}

async function* mapStreamErrors<T>(
  messages: AsyncIterable<T>,
  map: (err: unknown) => ConnectError,
): AsyncIterable<T> {
  try {
    yield* messages;
  } catch (err) {
    throw map(err);
  }
}

/** An error's name, message and codes, down its `cause` chain: enough to tell outages apart, without stacks. */
function summary(err: unknown): string {
  const parts: string[] = [];
  let current = err;
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
    if (typeof current !== "object") {
      parts.push(String(current));
      break;
    }
    const { name, message, code } = current as { name?: unknown; message?: unknown; code?: unknown };
    const label = [name, code].filter((v) => typeof v === "string" || typeof v === "number").join(" ");
    parts.push(`${label}: ${typeof message === "string" ? message : ""}`);
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join(" <- ");
}

function where(req: AnyRequest): { rpc_service: string; method: string; request_id: string } {
  return {
    rpc_service: req.service.typeName,
    method: req.method.name,
    request_id: req.contextValues.get(requestIdKey),
  };
}
