import { randomUUID } from "node:crypto";
import type { ContextValues, Interceptor } from "@connectrpc/connect";
import { ConnectError, createContextKey } from "@connectrpc/connect";

/** The header a request id travels in, on requests and responses. */
export const REQUEST_ID_HEADER = "x-request-id";

/** Context key holding the current RPC's request id ("" outside an RPC served by createServer). */
export const requestIdKey = createContextKey<string>("", { description: "request id" });

// An id from the caller ends up in every log line of the request, so only a short, boring one is trusted.
const acceptable = /^[\w.:-]{1,128}$/;

/**
 * The request id of the RPC being handled: the caller's `x-request-id` when it sent a sane one, otherwise a
 * UUID generated for it. Pass the handler context (or `req` inside an interceptor via `{ values: req.contextValues }`).
 */
export function getRequestId(ctx: { readonly values: ContextValues }): string {
  return ctx.values.get(requestIdKey);
}

/**
 * Reads `x-request-id` (or generates a UUID), stores it under {@link requestIdKey} and echoes it on the response
 * header, or on the error's metadata when the RPC fails.
 */
export function createRequestIdInterceptor(): Interceptor {
  return (next) => async (req) => {
    const incoming = req.header.get(REQUEST_ID_HEADER);
    const id = incoming !== null && acceptable.test(incoming) ? incoming : randomUUID();
    req.contextValues.set(requestIdKey, id);
    try {
      const res = await next(req);
      res.header.set(REQUEST_ID_HEADER, id);
      return res;
    } catch (err) {
      if (err instanceof ConnectError) {
        err.metadata.set(REQUEST_ID_HEADER, id);
      }
      throw err;
    }
  };
}
