import type { Interceptor } from "@connectrpc/connect";
import { Code } from "@connectrpc/connect";
import type { Attributes, Span } from "@opentelemetry/api";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { codeLabel } from "./code-label.js";
import { observeCall } from "./observe.js";
import { startSpan, tracing } from "./telemetry.js";
import {
  childSpan,
  currentSpan,
  formatTraceparent,
  parseTraceparent,
  runInSpan,
  TRACEPARENT_HEADER,
} from "./trace-context.js";

type AnyRequest = Parameters<Parameters<Interceptor>[0]>[0];

// Probes call Health every few seconds: exported, each would be a trace of its own and drown the real ones.
const untraced = new Set(["grpc.health.v1.Health"]);
// The codes that are the server's fault (OpenTelemetry's RPC conventions); the rest are the caller's.
const serverFaults = new Set<Code | 0>([
  Code.Unknown,
  Code.DeadlineExceeded,
  Code.Unimplemented,
  Code.Internal,
  Code.Unavailable,
  Code.DataLoss,
]);

/**
 * Server interceptor: each RPC runs as a child span of the caller's `traceparent` (or starts a trace). When spans
 * are exported (startTelemetry) it is a SERVER span `<package.Service>/<Method>` ended with the RPC's code, ERROR
 * for the codes that are the server's fault; Health checks are never exported.
 */
export function createTraceInterceptor(): Interceptor {
  return (next) => (req) => {
    const parent = parseTraceparent(req.header.get(TRACEPARENT_HEADER));
    const span =
      tracing() && !untraced.has(req.service.typeName)
        ? startSpan(spanName(req), { kind: SpanKind.SERVER, parent, attributes: rpcAttributes(req) })
        : undefined;
    if (span === undefined) return runInSpan(childSpan(parent), () => next(req));
    return runInSpan(span.spanContext(), () =>
      observeCall(next, req, (code) => endRpcSpan(span, code, serverFaults.has(code))),
    );
  };
}

/**
 * Client interceptor for calls to other services: sends the current span as `traceparent`, so the callee's work
 * joins the same trace. When spans are exported the call is a CLIENT span of its own (a child of the current span,
 * or of a `traceparent` the caller set), which is what the callee continues; any code but OK is an ERROR (Health
 * checks get none). Add it to every outgoing transport (observeClientCalls does, with the client metrics).
 */
export const propagateTrace: Interceptor = (next) => (req) => {
  if (!tracing() || untraced.has(req.service.typeName)) {
    const sc = currentSpan();
    if (sc !== undefined && !req.header.has(TRACEPARENT_HEADER)) {
      req.header.set(TRACEPARENT_HEADER, formatTraceparent(sc));
    }
    return next(req);
  }
  const parent = parseTraceparent(req.header.get(TRACEPARENT_HEADER)) ?? currentSpan();
  const span = startSpan(spanName(req), {
    kind: SpanKind.CLIENT,
    parent,
    attributes: { ...rpcAttributes(req), ...serverAddress(req.url) },
  });
  if (span === undefined) return next(req);
  req.header.set(TRACEPARENT_HEADER, formatTraceparent(span.spanContext()));
  return observeCall(next, req, (code) => endRpcSpan(span, code, code !== 0));
};

function spanName(req: AnyRequest): string {
  return `${req.service.typeName}/${req.method.name}`;
}

function rpcAttributes(req: AnyRequest): Attributes {
  const grpc = req.header.get("content-type")?.startsWith("application/grpc") ?? false;
  return {
    "rpc.system": grpc ? "grpc" : "connect_rpc",
    "rpc.service": req.service.typeName,
    "rpc.method": req.method.name,
  };
}

function serverAddress(url: string): Attributes {
  if (!URL.canParse(url)) return {};
  const { hostname, port, protocol } = new URL(url);
  return { "server.address": hostname, "server.port": Number(port || (protocol === "https:" ? 443 : 80)) };
}

function endRpcSpan(span: Span, code: Code | 0, failed: boolean): void {
  span.setAttribute("rpc.grpc.status_code", code);
  if (failed) span.setStatus({ code: SpanStatusCode.ERROR, message: codeLabel(code) });
  span.end();
}
