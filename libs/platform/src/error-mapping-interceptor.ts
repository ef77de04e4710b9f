import type { Interceptor } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "pino";
import { stampErrorDomain } from "./errors.js";
import { requestIdKey } from "./request-id.js";

/** Turns a service's domain error into the ConnectError to send, or undefined when it does not know the error. */
export type ErrorMapper = (err: unknown) => ConnectError | undefined;

type Next = Parameters<Interceptor>[0];
type AnyRequest = Parameters<Next>[0];

/**
 * Makes sure nothing but a deliberate ConnectError leaves the server: ConnectErrors pass (their ErrorInfo gets
 * the server's name as domain when none was given), other errors go through `mapError`, and whatever is left is
 * logged at error level with its stack and answered as Internal "internal error", so no internals leak.
 */
export function createErrorMappingInterceptor(opts: {
  logger: Logger;
  domain: string;
  mapError?: ErrorMapper | undefined;
}): Interceptor {
  const toConnectError = (err: unknown, req: AnyRequest): ConnectError => {
    if (err instanceof ConnectError) {
      stampErrorDomain(err, opts.domain);
      return err;
    }
    if (req.signal.aborted) {
      // The handler failed because the call was cancelled or timed out; the reason says which.
      return ConnectError.from(req.signal.reason, Code.Canceled);
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
    opts.logger.error({ err, ...where(req) }, "unhandled error in RPC handler");
    return new ConnectError("internal error", Code.Internal, undefined, undefined, err);
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

function where(req: AnyRequest): { rpc_service: string; method: string; request_id: string } {
  return {
    rpc_service: req.service.typeName,
    method: req.method.name,
    request_id: req.contextValues.get(requestIdKey),
  };
}
