import { lookup } from "node:dns/promises";
import type {
  ClientHttp2Stream,
  ClientSessionRequestOptions,
  Http2Session,
  OutgoingHttpHeaders,
} from "node:http2";
import { connect, isIP } from "node:net";
import type { Client } from "@connectrpc/connect";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import type { Http2SessionOptions } from "@connectrpc/connect-node";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import {
  Health,
  HealthCheckResponse_ServingStatus as Status,
} from "@fintech/proto/grpc/health/v1/health_pb.js";
import type { Counter } from "prom-client";
import { wasRefusedStream } from "./refused-stream.js";
import { splitServiceUrl } from "./service-urls.js";
import { endUnaryRequest } from "./unary-end-stream.js";
import { upstreamRequestCounter } from "./upstream-metrics.js";

/** How often host names are looked up again by default, in ms. */
export const DEFAULT_RESOLVE_INTERVAL_MS = 30_000;
const DEFAULT_HEALTH_INTERVAL_MS = 5_000;
const DEFAULT_HEALTH_TIMEOUT_MS = 1_000;
// A connection failure asks for a new look-up, at most this often.
const MIN_RESOLVE_GAP_MS = 1_000;

// connect-node's session manager destroys an idle connection that gets a GOAWAY with an error it emits a moment
// later, and a request made in between replaces the connection and stops listening to the old one: unheard, that
// error is an uncaught exception, which ends the process. Every connection a request went out on keeps a listener
// of its own for the whole of its life; its requests still get its failures from their streams.
const heard = new WeakSet<Http2Session>();
const ignore = () => undefined;
function hearErrors(session: Http2Session | undefined): void {
  if (session === undefined || heard.has(session)) return;
  heard.add(session);
  session.on("error", ignore);
}

/** What connect-node's HTTP/2 transports need from their session manager (its `sessionManager` option). */
export interface SessionManager {
  readonly authority: string;
  request(
    method: string,
    path: string,
    headers: OutgoingHttpHeaders,
    options: Omit<ClientSessionRequestOptions, "signal">,
  ): Promise<ClientHttp2Stream>;
  notifyResponseByteRead(stream: ClientHttp2Stream): void;
}

/** One address of an upstream as the balancer sees it. */
export interface UpstreamAddress {
  /** Where it connects: "127.0.0.2:50052", "[::1]:50052". */
  address: string;
  /** In rotation: neither its connection nor its health check failed since it last answered. */
  up: boolean;
  /** Requests sent to it whose answer has not been read to the end, nor their stream closed. */
  outstanding: number;
}

/** A session manager over every address a service URL names; see {@link createBalancedSessionManager}. */
export interface BalancedSessionManager extends SessionManager {
  /** The addresses known now, in rotation or not. */
  addresses(): UpstreamAddress[];
  /** Looks the URL's host names up again now (the periodic look-up does it every `resolveIntervalMs`). */
  resolve(): Promise<void>;
  /** Stops the timers and closes every connection (open streams included). */
  close(): void;
}

/** Options of {@link createBalancedSessionManager}. */
export interface BalancerOptions {
  /** The upstream's name in metrics (`upstream` label); default the first URL's host and port. */
  name?: string;
  /** How often host names are looked up again, in ms (default 30000). */
  resolveIntervalMs?: number;
  /** How often each address is asked grpc.health.v1 Check("") while there are several, in ms (default 5000). */
  healthIntervalMs?: number;
  /** Deadline of one health check, in ms (default 1000). */
  healthTimeoutMs?: number;
  /**
   * "least-requests" (default): the address with the fewest requests under way, ties taken in turn;
   * "round-robin": each address in turn.
   */
  pick?: "least-requests" | "round-robin";
  /** Every address of a host name (default: dns.lookup with `all`, which answers from DNS and /etc/hosts). */
  lookup?: (host: string) => Promise<string[]>;
  /** Keep-alive of each address's HTTP/2 connection (pingIntervalMs, ...), as connect-node's transports take it. */
  session?: Http2SessionOptions;
}

interface Target {
  url: URL;
  /** Without the brackets of an IPv6 literal. */
  host: string;
  port: number;
  /** Connected as written: an IP address, or https (whose certificate names the host). */
  fixed: boolean;
}

interface Endpoint {
  key: string;
  target: Target;
  address: string;
  manager: Http2SessionManager;
  up: boolean;
  retired: boolean;
  outstanding: number;
  checking: boolean;
  requests: Counter.Internal;
  health?: Client<typeof Health>;
}

const lookupAll = async (host: string): Promise<string[]> =>
  (await lookup(host, { all: true })).map((a) => a.address);

/**
 * An HTTP/2 session manager for connect-node's transports that balances requests over every address a service URL
 * names. The URL is one URL or a comma-separated list (splitServiceUrl); an IP address is used as written, a host
 * name is looked up with all its addresses (several A records, a Kubernetes headless Service, several /etc/hosts
 * lines) and looked up again every `resolveIntervalMs` and soon after a connection fails. Each address keeps one
 * HTTP/2 connection (connect-node's Http2SessionManager: keep-alive, reconnect, GOAWAY handling). Each request goes
 * to the address with the fewest requests under way, ties in turn ("least-requests"), or to each in turn. A request
 * whose connection cannot be opened never reached the upstream, so it is sent to another address and the failed one
 * is taken out; while there are several addresses each is asked grpc.health.v1 Check("") every `healthIntervalMs`
 * and is in rotation only while it answers SERVING. When every address is out, requests try them all (the caller
 * gets the upstream's own failure, as with one address). An address that is no longer resolved is closed once its
 * last request ends. Timers never keep the process alive.
 */
export function createBalancedSessionManager(
  url: string,
  opts: BalancerOptions = {},
): BalancedSessionManager {
  const targets = (splitServiceUrl(url) ?? []).map(toTarget);
  const first = targets[0];
  if (first === undefined)
    throw new Error(`expected an absolute URL, or several separated by commas: ${url}`);
  const name = opts.name ?? first.url.host;
  const resolveHost = opts.lookup ?? lookupAll;
  const roundRobin = opts.pick === "round-robin";
  const healthTimeoutMs = opts.healthTimeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
  const healthIntervalMs = opts.healthIntervalMs ?? DEFAULT_HEALTH_INTERVAL_MS;
  const named = targets.some((t) => !t.fixed);

  let endpoints: Endpoint[] = [];
  let turn = 0;
  const byStream = new WeakMap<ClientHttp2Stream, Endpoint>();
  let resolving: Promise<void> | undefined;
  let lastResolveAt = 0;
  let lookupFailure: unknown;
  let healthTimer: NodeJS.Timeout | undefined;
  let resolveTimer: NodeJS.Timeout | undefined;
  let closed = false;

  const endpointFor = (target: Target, address: string): Endpoint => {
    const key = keyOf(address, target.port);
    const connection =
      target.url.protocol === "http:"
        ? { createConnection: () => connect({ host: address, port: target.port, noDelay: true }) }
        : undefined;
    return {
      key,
      target,
      address,
      manager: new Http2SessionManager(target.url, opts.session, connection),
      up: true,
      retired: false,
      outstanding: 0,
      checking: false,
      requests: upstreamRequestCounter(name, key),
    };
  };

  const retire = (endpoint: Endpoint): void => {
    endpoint.retired = true;
    if (endpoint.outstanding === 0) endpoint.manager.abort();
  };

  /** Replaces the endpoints by those of `found` (address key -> target), keeping the ones that remain. */
  const apply = (found: Map<string, { target: Target; address: string }>): void => {
    const current = new Map(endpoints.map((e) => [e.key, e]));
    const next: Endpoint[] = [];
    for (const [key, { target, address }] of found) {
      next.push(current.get(key) ?? endpointFor(target, address));
      current.delete(key);
    }
    for (const gone of current.values()) retire(gone);
    endpoints = next;
    if (endpoints.length > 1 && healthTimer === undefined && !closed) {
      healthTimer = setInterval(checkAll, healthIntervalMs).unref();
    } else if (endpoints.length <= 1 && healthTimer !== undefined) {
      clearInterval(healthTimer);
      healthTimer = undefined;
    }
  };

  const lookUp = async (): Promise<void> => {
    lastResolveAt = Date.now();
    const found = new Map<string, { target: Target; address: string }>();
    const add = (target: Target, address: string) => {
      const key = keyOf(address, target.port);
      if (!found.has(key)) found.set(key, { target, address });
    };
    const answers = await Promise.allSettled(
      targets.map((t) => (t.fixed ? Promise.resolve([t.host]) : resolveHost(t.host))),
    );
    lookupFailure = undefined;
    targets.forEach((target, i) => {
      const answer = answers[i];
      if (answer?.status === "fulfilled" && answer.value.length > 0) {
        for (const address of answer.value) add(target, address);
        return;
      }
      // A failed or empty look-up keeps what the name had: a DNS hiccup must not empty the rotation.
      if (answer?.status === "rejected") lookupFailure = answer.reason;
      for (const e of endpoints) if (e.target === target) add(target, e.address);
    });
    if (!closed) apply(found);
  };

  const resolve = (): Promise<void> => {
    resolving ??= lookUp().finally(() => {
      resolving = undefined;
    });
    return resolving;
  };

  const resolveSoon = (): void => {
    if (named && !closed && resolving === undefined && Date.now() - lastResolveAt >= MIN_RESOLVE_GAP_MS) {
      // lookUp keeps its failure for the next request that finds no address; nothing to handle here.
      resolve().catch(() => undefined);
    }
  };

  const takeOut = (endpoint: Endpoint): void => {
    if (!endpoint.up) return;
    endpoint.up = false;
    resolveSoon();
  };

  const check = async (endpoint: Endpoint): Promise<void> => {
    if (endpoint.checking || endpoint.retired) return;
    endpoint.checking = true;
    try {
      endpoint.health ??= createClient(
        Health,
        createGrpcTransport({ baseUrl: endpoint.manager.authority, sessionManager: endpoint.manager }),
      );
      const res = await endpoint.health.check({ service: "" }, { timeoutMs: healthTimeoutMs });
      endpoint.up = res.status === Status.SERVING;
    } catch (err) {
      // An upstream without the health service still answers: only a failed call takes it out. A check that
      // crossed the upstream's GOAWAY (its connection reached its maximum age) tells nothing: the next one will.
      if (!wasRefusedStream(err)) endpoint.up = ConnectError.from(err).code === Code.Unimplemented;
    } finally {
      endpoint.checking = false;
    }
    if (!endpoint.up) resolveSoon();
  };

  function checkAll(): void {
    for (const endpoint of endpoints) void check(endpoint);
  }

  const pick = (tried: readonly Endpoint[]): Endpoint | undefined => {
    const n = endpoints.length;
    turn = turn + 1 >= n ? 0 : turn + 1;
    let best: Endpoint | undefined;
    for (let i = 0; i < n; i++) {
      const e = endpoints[(turn + i) % n];
      if (e === undefined || !e.up || tried.includes(e)) continue;
      if (roundRobin) return e;
      if (best === undefined || e.outstanding < best.outstanding) best = e;
    }
    if (best !== undefined) return best;
    // Every address is out: try each anyway, so the caller gets the upstream's own answer.
    for (let i = 0; i < n; i++) {
      const e = endpoints[(turn + i) % n];
      if (e !== undefined && !tried.includes(e)) return e;
    }
    return undefined;
  };

  const finished = (endpoint: Endpoint): void => {
    endpoint.outstanding--;
    if (endpoint.retired && endpoint.outstanding === 0) endpoint.manager.abort();
  };

  if (!named) {
    // IP addresses only: the rotation is known now and never looked up.
    const found = new Map<string, { target: Target; address: string }>();
    for (const t of targets) {
      const key = keyOf(t.host, t.port);
      if (!found.has(key)) found.set(key, { target: t, address: t.host });
    }
    apply(found);
  } else {
    resolveTimer = setInterval(resolveSoon, opts.resolveIntervalMs ?? DEFAULT_RESOLVE_INTERVAL_MS).unref();
  }

  return {
    authority: first.url.origin,

    async request(method, path, headers, options) {
      if (endpoints.length === 0) await resolve();
      const tried: Endpoint[] = [];
      let failure: unknown;
      for (;;) {
        const endpoint = pick(tried);
        if (endpoint === undefined) {
          throw (
            failure ??
            new ConnectError(
              `no address of ${name} is known`,
              Code.Unavailable,
              undefined,
              undefined,
              lookupFailure,
            )
          );
        }
        endpoint.outstanding++;
        let stream: ClientHttp2Stream;
        try {
          stream = await endpoint.manager.request(method, path, headers, options);
        } catch (err) {
          // No stream was opened, so nothing reached this address: another one may take the request.
          endpoint.outstanding--;
          takeOut(endpoint);
          tried.push(endpoint);
          failure = err;
          continue;
        }
        hearErrors(stream.session);
        endUnaryRequest(stream, headers);
        // It answers: back in rotation if it was out (only picked out of rotation when every address was).
        endpoint.up = true;
        byStream.set(stream, endpoint);
        endpoint.requests.inc();
        // Under way until its answer has been read to the end, or its stream closed without one: a caller that has
        // its answer picks the next address before the stream's close event, and must not count this one.
        let under = true;
        const done = () => {
          if (!under) return;
          under = false;
          finished(endpoint);
        };
        stream.once("end", done);
        stream.once("close", done);
        return stream;
      }
    },

    notifyResponseByteRead(stream) {
      byStream.get(stream)?.manager.notifyResponseByteRead(stream);
    },

    addresses() {
      return endpoints.map((e) => ({ address: e.key, up: e.up, outstanding: e.outstanding }));
    },

    resolve,

    close() {
      closed = true;
      clearInterval(healthTimer);
      clearInterval(resolveTimer);
      for (const e of endpoints) e.manager.abort();
      endpoints = [];
    },
  };
}

function toTarget(url: URL): Target {
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port);
  return { url, host, port, fixed: isIP(host) !== 0 || url.protocol !== "http:" };
}

/** "127.0.0.2:50052", "[::1]:50052". */
function keyOf(address: string, port: number): string {
  return `${address.includes(":") ? `[${address}]` : address}:${port}`;
}
