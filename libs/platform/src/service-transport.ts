import type { Interceptor, Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { shareAbortReason } from "./abort-reason.js";
import type { BalancerOptions } from "./balanced-session-manager.js";
import { createBalancedSessionManager } from "./balanced-session-manager.js";
import { wasRefusedStream } from "./refused-stream.js";

// How many times in all a unary call is sent when its stream keeps being refused.
const MAX_REFUSED_ATTEMPTS = 3;

/** Options of {@link createServiceTransport}. */
export interface ServiceTransportOptions extends BalancerOptions {
  /** "connect" (default: the Connect protocol) or "grpc". */
  protocol?: "connect" | "grpc";
  /** Run on every call, in order (observeClientCalls first, then the service credential's). */
  interceptors?: Interceptor[];
}

/**
 * The transport of every internal client: HTTP/2 cleartext, binary protobuf, Connect or gRPC, answers asked for
 * uncompressed, balanced per request over every address `url` names (one URL or a comma-separated list; a host name
 * with all its addresses, looked up again every `resolveIntervalMs`): see createBalancedSessionManager. A unary
 * call whose stream the server refused (REFUSED_STREAM: it crossed the server's GOAWAY at a maximum connection age
 * or a shutdown, and HTTP/2 guarantees it was not processed) is sent again, at most 3 times in all. A URL naming
 * one address behaves as connect-node's own transport with one HTTP/2 connection (TCP_NODELAY on). Installs
 * shareAbortReason, as createServer does.
 */
export function createServiceTransport(url: string, opts: ServiceTransportOptions = {}): Transport {
  shareAbortReason();
  const { protocol, interceptors, ...balancer } = opts;
  const sessionManager = createBalancedSessionManager(url, balancer);
  const options = {
    baseUrl: sessionManager.authority,
    httpVersion: "2" as const,
    useBinaryFormat: true,
    // No compressed answers: between services gzip costs both sides more CPU (and a libuv thread's round trip
    // each way) than it saves on the wire. Servers still compress for a client that asks.
    acceptCompression: [],
    interceptors: [...(interceptors ?? []), retryRefused],
    sessionManager,
  };
  return protocol === "grpc" ? createGrpcTransport(options) : createConnectTransport(options);
}

const retryRefused: Interceptor = (next) => async (req) => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await next(req);
    } catch (err) {
      if (req.stream || attempt >= MAX_REFUSED_ATTEMPTS || !wasRefusedStream(err)) throw err;
    }
  }
};
