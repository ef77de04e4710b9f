import type { Interceptor, Transport } from "@connectrpc/connect";
import { createServiceTransport, observeClientCalls } from "@fintech/platform";

/** How the gateway talks to backends. */
export type BackendProtocol = "connect" | "grpc";

/**
 * A transport to one backend over HTTP/2 cleartext, binary protobuf, balanced per request over every replica the
 * URL names (createServiceTransport; `name` labels its per-address metrics, `resolveIntervalMs` is
 * UPSTREAM_RESOLVE_MS). "connect" (the Connect protocol) is the default: measured faster than Connect's gRPC client
 * on the same connect-node servers (see tools/bench). Every call carries the request's trace and is counted in the
 * client RPC metrics (observeClientCalls), then `interceptors`.
 */
export function createBackendTransport(
  baseUrl: string,
  protocol: BackendProtocol = "connect",
  interceptors: Interceptor[] = [],
  opts: { name?: string; resolveIntervalMs?: number } = {},
): Transport {
  return createServiceTransport(baseUrl, {
    ...opts,
    protocol,
    interceptors: [observeClientCalls, ...interceptors],
    session: { pingIntervalMs: 30_000 },
  });
}
