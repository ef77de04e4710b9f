import { AsyncResource } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { ScalarType } from "@bufbuild/protobuf";
import type { Transport } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Authenticator, Principal, ServiceCredentials, UserAccessCache } from "@fintech/auth";
import {
  FORWARDED_BY_HEADER,
  FORWARDED_FOR_HEADER,
  forwardCredentials,
  USER_ACCESS_HEADER,
  userAccessHeader,
} from "@fintech/auth";
import type { Clock, Span } from "@fintech/platform";
import {
  childSpan,
  isTransportFailure,
  parseTraceparent,
  runInSpan,
  SpanKind,
  SpanStatusCode,
  startSpan,
  systemClock,
  tracing,
} from "@fintech/platform";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { backends } from "./backends.js";
import { answerClientError } from "./client-error.js";
import type { GatewayConfig } from "./config.js";
import { createCors } from "./cors.js";
import { createDocs, isDocsPath } from "./docs.js";
import type { HttpError } from "./errors.js";
import { GatewayError, toHttpError, UNAVAILABLE_RETRY_AFTER_SECONDS } from "./errors.js";
import { acceptableRequestId, clientIp, idempotencyKey, readBody } from "./http-io.js";
import type { Input } from "./message-json.js";
import { parseJson } from "./message-json.js";
import { createMetricsServer, gatewayMetrics } from "./metrics.js";
import { buildOpenApi } from "./openapi.js";
import type { RateLimitDecision } from "./rate-limit.js";
import { createRateLimiter } from "./rate-limit.js";
import { createReadiness } from "./readiness.js";
import { authChallenge, responseHeaders } from "./response-headers.js";
import { createRouter } from "./router.js";
import type { Route } from "./transcoder.js";
import { bindRequest, deriveRoutes, renderResponse } from "./transcoder.js";
import { createBackendTransport } from "./transports.js";

/** What the gateway is built from. */
export interface GatewayDeps {
  /** For rate limits and readiness. Give it `enableOfflineQueue: false` so a Redis outage fails fast. */
  redis: Redis;
  logger: Logger;
  /** Verifies Bearer tokens and API keys (createIdentityAuthenticator). */
  authenticator: Authenticator;
  /** Timestamps of error bodies. Default: the system clock. */
  clock?: Clock;
  /** A backend's transport by backend name; default: an HTTP/2 transport to the URL in the config. */
  transports?: Readonly<Record<string, Transport>>;
  /**
   * The gateway's own service credentials (connectGatewayIdentity): their token goes with every backend call in
   * x-forwarded-by, the proof backends ask for before they believe x-forwarded-for (the audit trail records
   * it). Without them backends record no client address.
   */
  forwarder?: ServiceCredentials | undefined;
  /**
   * What identity last said of each user (connectGatewayIdentity), sent with the proof in x-user-access so that
   * a backend does not ask identity again about the caller the gateway just checked.
   */
  userAccess?: UserAccessCache | undefined;
}

/** Where the gateway listens. */
export interface GatewayListen {
  port?: number;
  host?: string;
}

/** Backend response headers passed on to the client. */
const PASSED_BACK = ["idempotent-replayed"] as const;
// Set by a backend on a refusal it keeps under an idempotency key; they go into the error body, not headers.
const ANSWER_REQUEST_ID_HEADER = "idempotent-request-id";
const ANSWER_TIMESTAMP_HEADER = "idempotent-timestamp";
const UNMATCHED = "(unmatched)";
/** The request field an uploaded file's name goes to (an import's file_name). */
const FILE_NAME_FIELD = "file_name";
/** How long stop() lets in-flight requests finish, in ms. */
const GRACE_MS = 10_000;

/**
 * Builds the gateway, unstarted: the REST routes derived from every backend's google.api.http annotations,
 * auth, rate limits, CORS, OpenAPI at /openapi.json, Swagger UI at /docs, /health and /ready on one HTTP/1.1
 * server, and Prometheus /metrics on a separate one (METRICS_PORT).
 */
export function build(config: GatewayConfig, deps: GatewayDeps) {
  const { redis, logger, authenticator } = deps;
  const clock = deps.clock ?? systemClock;
  // A token the gateway cannot get (identity away, after the renewal it waits for fails) never fails the request:
  // the backends then record no client address for it.
  const forwardedBy = async (): Promise<string | undefined> =>
    deps.forwarder?.token().then(
      (token) => `Bearer ${token}`,
      () => undefined,
    );
  const enabled = backends.filter((b) => config.BACKENDS.includes(b.name));
  const routes = deriveRoutes(enabled);
  const router = createRouter(routes);
  const transports = new Map<string, Transport>(
    enabled.map((b) => [
      b.name,
      deps.transports?.[b.name] ??
        createBackendTransport(config[b.env], config.BACKEND_PROTOCOL, [], {
          name: b.name,
          resolveIntervalMs: config.UPSTREAM_RESOLVE_MS,
        }),
    ]),
  );
  const metrics = gatewayMetrics();
  const limiter = createRateLimiter({
    redis,
    rps: config.RATE_LIMIT_RPS,
    burst: config.RATE_LIMIT_BURST,
    prefix: config.RATE_LIMIT_PREFIX,
    logger,
    onFailOpen: metrics.failOpen,
  });
  const readiness = createReadiness(
    redis,
    enabled.map((b) => ({ name: b.name, transport: transports.get(b.name) as Transport })),
  );
  const openApi = buildOpenApi(routes);
  const openApiJson = Buffer.from(JSON.stringify(openApi));
  const docs = createDocs();
  const cors = createCors(config.CORS_ORIGINS);

  /** Everything the handler learns about a request, for its one log line. */
  interface Exchange {
    req: IncomingMessage;
    res: ServerResponse;
    requestId: string;
    path: string;
    route: string;
    principal?: Principal | undefined;
    error?: HttpError;
  }

  const send = (x: Exchange, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    if (body === undefined) {
      x.res.writeHead(status, headers).end();
      return;
    }
    const text = JSON.stringify(body);
    x.res
      .writeHead(status, {
        ...headers,
        "content-type": "application/json; charset=utf-8",
        "content-length": String(Buffer.byteLength(text)),
      })
      .end(text);
  };

  const sendError = (x: Exchange, err: unknown): void => {
    // The connection is gone (dropped with 408 for being too slow, or closed by the client): nobody is left to
    // answer, and an "aborted" read is not a failure of ours; one line per slow client, without a stack.
    if (x.res.destroyed) {
      logger.info({ request_id: x.requestId, route: x.route }, "client connection closed before the answer");
      return;
    }
    const e = toHttpError(err);
    x.error = e;
    if (e.hidden !== undefined)
      logger.error({ err: e.hidden, request_id: x.requestId, route: x.route }, "request failed");
    if (x.res.headersSent) {
      x.res.destroy();
      return;
    }
    const headers: Record<string, string> = { ...e.headers };
    // Stop reading an oversize upload: the connection closes after this answer.
    if (e.status === 413) headers.connection = "close";
    if (e.status === 401) headers["www-authenticate"] = authChallenge(x.req);
    // A refusal kept under an idempotency key names the refused call's request id and time, first answer and
    // replays alike: the replay is then the same body, as a replayed success is.
    let answered: { requestId: string; at: string } | undefined;
    if (err instanceof ConnectError) {
      passBack(err.metadata, headers);
      const requestId = err.metadata.get(ANSWER_REQUEST_ID_HEADER);
      const at = err.metadata.get(ANSWER_TIMESTAMP_HEADER);
      if (requestId !== null && at !== null) answered = { requestId, at };
    }
    send(
      x,
      e.status,
      {
        error: e.error,
        message: e.message,
        details: e.details,
        request_id: answered?.requestId ?? x.requestId,
        timestamp: answered?.at ?? clock.now().toISOString(),
        path: x.path,
      },
      headers,
    );
  };

  const rateLimit = async (x: Exchange, ip: string): Promise<RateLimitDecision | undefined> => {
    const p = x.principal;
    const key = p === undefined ? `ip:${ip}` : p.kind === "user" ? `u:${p.userId}` : `s:${p.service}`;
    const decision = await limiter.check(key);
    for (const [name, value] of Object.entries(limiter.headers(decision))) x.res.setHeader(name, value);
    return decision;
  };

  async function handle(x: Exchange): Promise<void> {
    const { req, res } = x;
    const verb = req.method ?? "GET";
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const search = q < 0 ? "" : url.slice(q + 1);

    if (cors.handle(req, res, () => allowedMethods(x.path))) {
      x.route = "(preflight)";
      return;
    }
    // Probes: never rate limited or authenticated.
    if (x.path === "/health" || x.path === "/ready") {
      x.route = `GET ${x.path}`;
      if (verb !== "GET" && verb !== "HEAD") throw methodNotAllowed(["GET"]);
      if (x.path === "/health") return send(x, 200, { status: "ok" });
      const r = await readiness();
      const retry: Record<string, string> = r.ready
        ? {}
        : { "retry-after": String(UNAVAILABLE_RETRY_AFTER_SECONDS) };
      return send(
        x,
        r.ready ? 200 : 503,
        { status: r.ready ? "ready" : "not_ready", checks: r.checks },
        retry,
      );
    }

    const own = x.path === "/openapi.json" || isDocsPath(x.path);
    const match = own ? undefined : router.match(verb, x.path);
    const route = match?.kind === "route" ? match.route : undefined;
    if (own) {
      x.route =
        x.path === "/openapi.json"
          ? "GET /openapi.json"
          : x.path.startsWith("/redoc")
            ? "GET /redoc"
            : "GET /docs";
    } else if (route !== undefined) x.route = route.key;

    // Who is calling: a credential that is sent is always verified; only public routes do without one.
    let authError: unknown;
    const credentials = new Headers();
    for (const name of ["authorization", "x-api-key", "idempotency-key"] as const) {
      const value = req.headers[name];
      if (typeof value === "string") credentials.set(name, value);
    }
    if (route !== undefined) {
      try {
        x.principal = await authenticator.authenticate(credentials);
        if (x.principal === undefined && !route.public) {
          authError = new GatewayError(
            "UNAUTHENTICATED",
            "credentials required: Authorization: Bearer <token> or X-API-Key",
          );
        }
      } catch (err) {
        // An API key is checked with identity: a call that got no answer there is a 503 too, not a refusal.
        authError = backendFailure(err, false, "identity");
      }
    }
    const ip = clientIp(req, config.TRUST_PROXY_HOPS);
    const decision = await rateLimit(x, ip);
    if (decision !== undefined && !decision.allowed) {
      metrics.rateLimited();
      throw new GatewayError("RATE_LIMITED", "too many requests, slow down", {
        retry_after_seconds: String(Math.max(1, decision.retryAfterSeconds)),
      });
    }
    if (authError !== undefined) throw authError;

    if (own) {
      if (verb !== "GET" && verb !== "HEAD") throw methodNotAllowed(["GET"]);
      if (x.path === "/openapi.json") {
        res.writeHead(200, {
          "content-type": "application/json; charset=utf-8",
          "content-length": String(openApiJson.length),
        });
        res.end(openApiJson);
        return;
      }
      const file = await docs.file(x.path);
      if (file === undefined) throw new GatewayError("NOT_FOUND", `no such page ${x.path}`);
      res.writeHead(200, {
        "content-type": file.contentType,
        "content-length": String(file.body.length),
        "cache-control": "public, max-age=3600",
      });
      res.end(file.body);
      return;
    }
    if (match === undefined || match.kind === "not_found")
      throw new GatewayError("NOT_FOUND", `no route for ${verb} ${x.path}`);
    if (match.kind === "method_not_allowed") throw methodNotAllowed(match.allow);
    await call(x, match.route, match.pathValues, search, credentials);
  }

  async function call(
    x: Exchange,
    route: Route,
    pathValues: Map<string, string>,
    search: string,
    credentials: Headers,
  ): Promise<void> {
    idempotencyKey(x.req);
    const query = new URLSearchParams(search);
    let body: Input | undefined;
    if (route.body !== undefined) {
      const acceptsFile =
        route.body !== "*" && route.body.fieldKind === "scalar" && route.body.scalar === ScalarType.STRING;
      const read = await readBody(x.req, { acceptsFile });
      const text = read.text;
      if (read.kind === "file") {
        body = text;
        // An uploaded file keeps its name where the request has a file_name field the query did not set.
        if (
          read.fileName !== undefined &&
          route.method.input.fields.some((f) => f.name === FILE_NAME_FIELD) &&
          !query.has(FILE_NAME_FIELD)
        ) {
          query.set(FILE_NAME_FIELD, read.fileName);
        }
      } else if (text.trim() !== "") {
        try {
          body = parseJson(text);
        } catch (err) {
          throw new GatewayError(
            "VALIDATION_ERROR",
            "the body is not valid JSON",
            { field: "body" },
            { cause: err },
          );
        }
      }
    } else {
      x.req.resume();
    }
    const message = bindRequest(route, { pathValues, query, body });
    const transport = transports.get(route.backend.name);
    if (transport === undefined) throw new GatewayError("INTERNAL", `no transport for ${route.backend.name}`);
    const headers = forwardCredentials(credentials);
    headers["x-request-id"] = x.requestId;
    headers[FORWARDED_FOR_HEADER] = clientIp(x.req, config.TRUST_PROXY_HOPS);
    const proof = await forwardedBy();
    if (proof !== undefined) {
      headers[FORWARDED_BY_HEADER] = proof;
      if (x.principal?.kind === "user") {
        const held = deps.userAccess?.held(x.principal.userId);
        const vouched = held && userAccessHeader(x.principal.userId, held);
        if (vouched !== undefined) headers[USER_ACCESS_HEADER] = vouched;
      }
    }
    const abort = new AbortController();
    x.res.once("close", () => {
      if (!x.res.writableFinished) abort.abort();
    });
    const response = await transport
      .unary(route.method, abort.signal, config.BACKEND_TIMEOUT_MS, headers, message)
      .catch((err: unknown) => {
        throw backendFailure(err, abort.signal.aborted, route.backend.name);
      });
    const extra: Record<string, string> = {};
    passBack(response.header, extra);
    send(x, route.status, renderResponse(route, response.message), extra);
  }

  /**
   * What a failed backend call means to the client. Only the client's own disconnect stays Canceled (499, and
   * nobody reads it). A call that got no answer (reset, refused, GOAWAY/RST, a peer killed mid-request) is
   * UNAVAILABLE, 503 with Retry-After: never a 4xx, since the request may be fine and may even have completed,
   * which a retry with the same Idempotency-Key settles. A deadline stays DeadlineExceeded (504).
   */
  const backendFailure = (err: unknown, clientGone: boolean, backend: string): unknown => {
    if (clientGone || !(err instanceof ConnectError)) return err;
    if (isTransportFailure(err) || err.code === Code.Canceled) {
      logger.warn({ backend, code: Code[err.code], error: err.rawMessage }, "backend call got no answer");
      return new GatewayError(
        "UNAVAILABLE",
        "the service is unavailable, try again later",
        {},
        { cause: err },
      );
    }
    return err;
  };

  const allowedMethods = (path: string): string[] => {
    const match = router.match("\u0000", path);
    return match.kind === "method_not_allowed" ? match.allow : ["GET"];
  };

  // Node's defaults keep a slow client's socket for 60 s of headers and 300 s of body; these answer 408 and close
  // it much sooner. Node checks them on a timer (30 s by default), which would let a trickle outlive them.
  const slowClients = {
    headersTimeout: config.HEADERS_TIMEOUT_MS,
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    connectionsCheckingInterval: Math.min(1_000, config.HEADERS_TIMEOUT_MS),
  };
  // Each request is the root (or, behind a tracing proxy, a child) span of a W3C trace that every backend
  // call and event it causes carries on (the transports send it), so its log lines can be followed through the
  // platform by trace_id; a SERVER span when spans are exported.
  const server: Server = createServer(slowClients, (req, res) => {
    const parent = parseTraceparent(
      typeof req.headers.traceparent === "string" ? req.headers.traceparent : undefined,
    );
    // Probes come every few seconds: exported, each would be a trace of its own and drown the real ones.
    const probe = /^\/(health|ready)(\?|$)/.test(req.url ?? "");
    const span =
      tracing() && !probe
        ? startSpan(req.method ?? "HTTP", {
            kind: SpanKind.SERVER,
            parent,
            attributes: { "http.request.method": req.method ?? "" },
          })
        : undefined;
    runInSpan(span?.spanContext() ?? childSpan(parent), () => serve(req, res, span));
  });
  server.keepAliveTimeout = config.KEEP_ALIVE_TIMEOUT_MS;
  server.on(
    "clientError",
    answerClientError(() => clock.now()),
  );

  const serve = (req: IncomingMessage, res: ServerResponse, span: Span | undefined): void => {
    const started = performance.now();
    const requestId = acceptableRequestId(req.headers["x-request-id"]) ?? randomUUID();
    res.setHeader("x-request-id", requestId);
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const x: Exchange = { req, res, requestId, path: q < 0 ? url : url.slice(0, q), route: UNMATCHED };
    for (const [name, value] of Object.entries(responseHeaders(req, x.path, config.TRUST_PROXY_HOPS)))
      res.setHeader(name, value);
    // Bound to the request's span: "finish" fires from socket callbacks outside it.
    res.once(
      "finish",
      AsyncResource.bind(() => {
        const seconds = (performance.now() - started) / 1000;
        metrics.observe(req.method ?? "", x.route, res.statusCode, seconds);
        const p = x.principal;
        logger.info(
          {
            method: req.method,
            route: x.route,
            status: res.statusCode,
            duration_ms: Math.round(seconds * 10_000) / 10,
            request_id: requestId,
            ...(p === undefined ? {} : p.kind === "user" ? { user_id: p.userId } : { caller: p.service }),
            ...(x.error === undefined ? {} : { error: x.error.error }),
          },
          "request",
        );
      }),
    );
    // "close" follows "finish", and comes alone when the client went away first.
    if (span !== undefined) res.once("close", () => endRequestSpan(span, req.method ?? "HTTP", x.route, res));
    handle(x).catch((err: unknown) => sendError(x, err));
  };

  let metricsServer: Server | undefined;
  let stopping: Promise<void> | undefined;

  return {
    routes,
    openApi,
    server,
    async start(listen: GatewayListen = { port: config.PORT, host: config.HOST }) {
      const host = listen.host ?? config.HOST;
      const port = await listenOn(server, listen.port ?? config.PORT, host);
      metricsServer = createMetricsServer();
      const metricsPort = await listenOn(metricsServer, config.METRICS_PORT, host);
      const reachable = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
      return {
        port,
        url: `http://${reachable}:${port}`,
        metricsPort,
        metricsUrl: `http://${reachable}:${metricsPort}`,
      };
    },
    /** Stops accepting connections, lets in-flight requests finish (10 s at most), then closes everything. */
    stop(): Promise<void> {
      stopping ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const timer = setTimeout(() => server.closeAllConnections(), GRACE_MS);
        await closed;
        clearTimeout(timer);
        const m = metricsServer;
        if (m?.listening) await new Promise<void>((resolve) => m.close(() => resolve()));
      })();
      return stopping;
    },
  };
}

/** Names the span after its route template (`GET /api/v1/wallets/{id}`), with its status; a 5xx is an ERROR. */
function endRequestSpan(span: Span, method: string, route: string, res: ServerResponse): void {
  if (route !== UNMATCHED) {
    // Route keys are "GET /api/v1/...", or a name of the gateway's own such as "(preflight)".
    const template = route.slice(route.indexOf(" ") + 1);
    span.updateName(`${method} ${template}`);
    span.setAttribute("http.route", template);
  }
  span.setAttribute("http.response.status_code", res.statusCode);
  if (res.statusCode >= 500) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: String(res.statusCode) });
    span.setAttribute("error.type", String(res.statusCode));
  }
  span.end();
}

function methodNotAllowed(allow: string[]): GatewayError {
  const err = new GatewayError("METHOD_NOT_ALLOWED", `method not allowed; use ${allow.join(", ")}`, {
    allow: allow.join(", "),
  });
  return err;
}

function passBack(from: Headers, to: Record<string, string>): void {
  for (const name of PASSED_BACK) {
    const value = from.get(name);
    if (value !== null) to[name] = value;
  }
}

function listenOn(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
