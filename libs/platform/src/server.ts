import type { Server as HttpServer } from "node:http";
import type { Http2Server, ServerHttp2Session } from "node:http2";
import { createServer as createHttp2Server } from "node:http2";
import type { AddressInfo } from "node:net";
import type { DescFile } from "@bufbuild/protobuf";
import type { ConnectRouter, Interceptor, Transport } from "@connectrpc/connect";
import { Code, ConnectError, createRouterTransport } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { file_google_rpc_error_details } from "@fintech/proto/google/rpc/error_details_pb.js";
import { file_google_rpc_status } from "@fintech/proto/google/rpc/status_pb.js";
import { file_grpc_health_v1_health, Health } from "@fintech/proto/grpc/health/v1/health_pb.js";
import {
  file_grpc_reflection_v1_reflection,
  ServerReflection,
} from "@fintech/proto/grpc/reflection/v1/reflection_pb.js";
import {
  file_grpc_reflection_v1alpha_reflection,
  ServerReflection as ServerReflectionV1alpha,
} from "@fintech/proto/grpc/reflection/v1alpha/reflection_pb.js";
import type { Logger } from "pino";
import { shareAbortReason } from "./abort-reason.js";
import type { ErrorMapper } from "./error-mapping-interceptor.js";
import { createErrorMappingInterceptor } from "./error-mapping-interceptor.js";
import { withSpecGrpcMessage } from "./grpc-message.js";
import type { HealthReporter } from "./health.js";
import { createHealthService, createHealthState } from "./health.js";
import { createLoggingInterceptor } from "./logging-interceptor.js";
import { createMetricsInterceptor, createMetricsServer } from "./metrics.js";
import { createReflectionServices } from "./reflection.js";
import { createRequestIdInterceptor } from "./request-id.js";
import { createTraceInterceptor } from "./rpc-tracing.js";
import { withUnaryAnswersEnded } from "./unary-end-stream.js";

/**
 * Largest request message accepted, in bytes: the gateway's 1 MiB body limit plus 16 KiB for what it adds from the
 * path, query and headers when it transcodes a body (a 1 MiB CSV import becomes a message a few bytes larger).
 * gRPC's customary 4 MiB would let a caller on the service port send four times what the public edge accepts.
 */
export const MAX_REQUEST_BYTES = 1024 * 1024 + 16 * 1024;
/** How long close() lets in-flight RPCs run by default, in milliseconds. */
const DEFAULT_GRACE_MS = 10_000;
/** How long a client connection is kept by default before the client is asked to open a new one, in ms. */
export const DEFAULT_MAX_CONNECTION_AGE_MS = 300_000;

/** Options for {@link createServer}. */
export interface ServerOptions {
  /** The service's name (e.g. "fx"), used in logs and as the default ErrorInfo domain. */
  name: string;
  /** Registers the service's RPCs: `(router) => router.service(FxService, impl)`. */
  routes: (router: ConnectRouter) => void;
  /**
   * Generated file descriptors (`file_fintech_fx_v1_fx`, ...) served by reflection. The files of every service
   * registered in `routes`, of Health, of reflection and of the error details every service sends
   * (google.rpc.Status, ErrorInfo, BadRequest) are always included; list extra ones (event types) here.
   */
  files?: readonly DescFile[];
  /** Where RPC lines and unhandled errors go; see createLogger. */
  logger: Logger;
  /** The service's one domain-error map; errors it returns undefined for become Internal "internal error". */
  mapError?: ErrorMapper;
  /** The service's own interceptors (auth, validation), run after the platform's, in order. Not applied to Health or reflection. */
  interceptors?: readonly Interceptor[];
  /** Port of a separate HTTP/1.1 server for GET /metrics and GET /healthz. 0 = any free port; undefined = none. */
  metricsPort?: number;
  /** Asked by Health/Check of "" while SERVING; false or a throw reports NOT_SERVING. createReadiness builds one. */
  readiness?: () => Promise<boolean>;
  /**
   * Serve grpc.reflection.v1.ServerReflection and its older name grpc.reflection.v1alpha.ServerReflection
   * (default true). Reflection answers anyone who reaches the port with
   * the whole API surface, so deployments turn it off (GRPC_REFLECTION=false) and keep it for local tools.
   */
  reflection?: boolean;
  /**
   * Ask each client to reconnect after about this long, in ms (default 300000, each connection's age jittered by
   * +-10% so clients do not reconnect together; 0: never). The client opens its next requests on a new connection,
   * which a connection balancer (a ClusterIP Service) may send to a replica started since, while requests under
   * way on the old one finish (GOAWAY, as close() does). Requests crossing the GOAWAY on the wire are refused
   * unprocessed (REFUSED_STREAM), which createServiceTransport sends again. MAX_CONNECTION_AGE_MS in serviceEnv.
   */
  maxConnectionAgeMs?: number;
}

/** Where to listen. */
export interface ListenOptions {
  /** Default 0: any free port. */
  port?: number;
  /** Default "0.0.0.0": every IPv4 interface. Also used by the metrics server. */
  host?: string;
}

/** Where the server ended up listening. */
export interface ListenResult {
  port: number;
  /** Base URL for clients, e.g. "http://127.0.0.1:50051" (loopback when listening on a wildcard address). */
  url: string;
  /** Set when `metricsPort` was given. */
  metricsPort?: number;
  /** Set when `metricsPort` was given, e.g. "http://127.0.0.1:9464". */
  metricsUrl?: string;
}

/** An unstarted gRPC/Connect server; see {@link createServer}. */
export interface PlatformServer {
  /** Starts the h2c server (and the metrics server). */
  listen(opts?: ListenOptions): Promise<ListenResult>;
  /**
   * Graceful stop: every health status goes NOT_SERVING (watchers are told), no new connections or streams are
   * accepted, in-flight RPCs get `graceMs` (default 10000 ms) to finish, then they are cancelled and the
   * connections destroyed. Resolves once everything is closed; calling it again returns the same promise.
   */
  close(opts?: { graceMs?: number }): Promise<void>;
  /** Lets the service report its own health (e.g. NOT_SERVING while a dependency is down). */
  readonly health: HealthReporter;
  /**
   * A transport to this server's routes for a caller in the same process: every call is encoded, runs through
   * the same interceptors as one arriving on the port (request id, logging, metrics, error mapping, then the
   * service's own: auth, access, validation) and is decoded again, only without a socket. `interceptors` are the
   * caller's (its service credential, trace propagation), run before the call is encoded. Works without
   * listen(); once close() has begun, new calls fail Unavailable as a closed port would.
   */
  transport: InProcessTransport;
}

/**
 * A server's in-process transport ({@link PlatformServer.transport}): given the caller's own interceptors (its
 * service credential, trace propagation), a Transport to the server's routes without a socket.
 */
export type InProcessTransport = (opts?: { interceptors?: readonly Interceptor[] }) => Transport;

/** A service started by its start function (main.ts, or several services in one process). */
export interface StartedService {
  /** Where its port (and metrics port) listen. */
  listening: ListenResult;
  /** Its routes for callers in the same process, through its own interceptors. */
  transport: InProcessTransport;
  /** Graceful stop: the server, then its background work (relay, consumers), then its connections. */
  stop(): Promise<void>;
}

/**
 * The bootstrap every service uses: one HTTP/2 cleartext (h2c) port speaking gRPC, gRPC-Web and Connect, with
 * the service's routes plus grpc.health.v1.Health and (unless `reflection` is false) grpc.reflection.v1 and v1alpha.
 * Request messages over {@link MAX_REQUEST_BYTES} are refused with RESOURCE_EXHAUSTED. Every RPC runs through, in order: request id, logging, metrics, error mapping, then `interceptors`.
 * HTTP/1.1 is not served on this port (h2c only): curl needs `--http2-prior-knowledge`. `transport()` reaches
 * the same routes through the same interceptors from inside the process, without the port. Installs
 * shareAbortReason: connect-node aborts every call's signals without a reason.
 */
export function createServer(opts: ServerOptions): PlatformServer {
  shareAbortReason();
  // One child, made once, so every line says which service wrote it; never one logger per request.
  const logger =
    "service" in opts.logger.bindings() ? opts.logger : opts.logger.child({ service: opts.name });
  const platform: Interceptor[] = [
    createTraceInterceptor(),
    createRequestIdInterceptor(),
    createLoggingInterceptor(logger),
    createMetricsInterceptor(),
    createErrorMappingInterceptor({ logger, domain: opts.name, mapError: opts.mapError }),
  ];
  const shutdown = new AbortController();
  const serviceNames: string[] = [];
  const state = createHealthState();

  const interceptors = [...platform, ...(opts.interceptors ?? [])];
  // The port and every in-process transport register the same routes; what they describe is worked out once.
  let health: ReturnType<typeof createHealthService> | undefined;
  let reflection: ReturnType<typeof createReflectionServices> | undefined;
  const routes = (router: ConnectRouter): void => {
    opts.routes(router);
    if (health === undefined) {
      const files = new Set<DescFile>(opts.files);
      for (const { service } of router.handlers) {
        if (!serviceNames.includes(service.typeName)) {
          serviceNames.push(service.typeName);
          files.add(service.file);
        }
      }
      for (const name of serviceNames) {
        state.setServing(name);
      }
      serviceNames.push(Health.typeName);
      files.add(file_grpc_health_v1_health);
      if (opts.reflection ?? true) {
        serviceNames.push(ServerReflection.typeName, ServerReflectionV1alpha.typeName);
        files.add(file_grpc_reflection_v1_reflection);
        files.add(file_grpc_reflection_v1alpha_reflection);
        // A client that meets an ErrorInfo or BadRequest in grpc-status-details-bin looks its type up by name.
        files.add(file_google_rpc_status);
        files.add(file_google_rpc_error_details);
        reflection = createReflectionServices(files, () => serviceNames);
      }
      health = createHealthService(state, { readiness: opts.readiness, logger });
    }
    // The service's own interceptors (auth, validation) must not stand between a probe and Health.
    const platformOnly = { interceptors: platform };
    router.service(Health, health, platformOnly);
    if (reflection !== undefined) {
      router.service(ServerReflection, reflection.v1, platformOnly);
      router.service(ServerReflectionV1alpha, reflection.v1alpha, platformOnly);
    }
  };

  const handler = connectNodeAdapter({
    interceptors,
    readMaxBytes: MAX_REQUEST_BYTES,
    shutdownSignal: shutdown.signal,
    routes,
  });

  // In-process calls under way, so close() gives them the same grace as the port's.
  const inProcess = new Set<Promise<unknown>>();
  let refusing = false;
  const refuseWhenClosed: Interceptor = (next) => async (req) => {
    if (refusing) {
      throw new ConnectError(`${opts.name} is shutting down`, Code.Unavailable);
    }
    const call = next(req);
    inProcess.add(call);
    const done = () => inProcess.delete(call);
    call.then(done, done);
    return call;
  };

  // grpc-js clients read connect-node's encodeURIComponent grpc-message with escapes left in; see grpc-message.ts.
  const server: Http2Server = createHttp2Server(withUnaryAnswersEnded(withSpecGrpcMessage(handler)));
  const sessions = new Set<ServerHttp2Session>();
  const maxAgeMs = opts.maxConnectionAgeMs ?? DEFAULT_MAX_CONNECTION_AGE_MS;
  server.on("session", (session) => {
    sessions.add(session);
    const aging =
      maxAgeMs > 0 ? setTimeout(() => session.close(), maxAgeMs * (0.9 + Math.random() * 0.2)) : undefined;
    aging?.unref();
    session.once("close", () => {
      sessions.delete(session);
      clearTimeout(aging);
    });
  });
  server.on("sessionError", (err) => {
    logger.debug({ err }, "http2 session error");
  });
  let metrics: HttpServer | undefined;
  let closing: Promise<void> | undefined;

  const closeGracefully = async (graceMs: number): Promise<void> => {
    logger.info({ grace_ms: graceMs }, "closing");
    state.shutdown();
    refusing = true;
    const closed = new Promise<void>((resolve) => {
      if (server.listening) {
        server.close(() => resolve());
      } else {
        resolve();
      }
    });
    // GOAWAY: streams already open run to completion, no new ones start.
    for (const session of sessions) {
      session.close();
    }
    const deadline = setTimeout(() => {
      if (sessions.size > 0) {
        logger.warn({ sessions: sessions.size }, "grace period over, cancelling in-flight RPCs");
      }
      if (inProcess.size > 0) {
        logger.warn({ calls: inProcess.size }, "grace period over, cancelling in-process calls");
      }
      shutdown.abort();
      for (const session of sessions) {
        session.destroy();
      }
    }, graceMs);
    try {
      await Promise.all([closed, Promise.allSettled([...inProcess])]);
    } finally {
      clearTimeout(deadline);
    }
    const metricsServer = metrics;
    if (metricsServer?.listening) {
      await new Promise<void>((resolve) => {
        metricsServer.close(() => resolve());
        metricsServer.closeAllConnections();
      });
    }
    logger.info("closed");
  };

  return {
    health: state,
    async listen(listenOpts = {}) {
      const host = listenOpts.host ?? "0.0.0.0";
      const port = await listenOn(server, listenOpts.port ?? 0, host);
      const result: ListenResult = { port, url: urlFor(host, port) };
      if (opts.metricsPort !== undefined) {
        metrics = createMetricsServer();
        result.metricsPort = await listenOn(metrics, opts.metricsPort, host);
        result.metricsUrl = urlFor(host, result.metricsPort);
      }
      logger.info({ port, metrics_port: result.metricsPort }, "listening");
      return result;
    },
    transport(transportOpts = {}) {
      return createRouterTransport(routes, {
        router: { interceptors, readMaxBytes: MAX_REQUEST_BYTES, shutdownSignal: shutdown.signal },
        transport: { interceptors: [...(transportOpts.interceptors ?? []), refuseWhenClosed] },
      });
    },
    close(closeOpts = {}) {
      closing ??= closeGracefully(closeOpts.graceMs ?? DEFAULT_GRACE_MS);
      return closing;
    },
  };
}

function listenOn(server: Http2Server | HttpServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const address = server.address();
      resolve(isAddressInfo(address) ? address.port : port);
    });
  });
}

function isAddressInfo(address: string | AddressInfo | null): address is AddressInfo {
  return typeof address === "object" && address !== null;
}

function urlFor(host: string, port: number): string {
  const reachable = host === "0.0.0.0" || host === "::" || host === "" ? "127.0.0.1" : host;
  return `http://${reachable.includes(":") ? `[${reachable}]` : reachable}:${port}`;
}
