import { AsyncLocalStorage } from "node:async_hooks";
import type { SpanContext } from "@opentelemetry/api";
import { isSpanContextValid, TraceFlags } from "@opentelemetry/api";
import { randomHex } from "./random-pool.js";

// W3C trace context (https://www.w3.org/TR/trace-context/) carried through every RPC and event, with the
// OpenTelemetry API's SpanContext as its shape, so one request can be followed through every service's
// logs by its trace_id. When spans are exported (telemetry.ts) the span context kept here is the exported
// span's, so the logs print the ids of the spans a trace viewer shows. RPCs get their spans in rpc-tracing.ts.

const storage = new AsyncLocalStorage<SpanContext>();

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The header both HTTP and gRPC carry it in; events carry it as a NATS header of the same name. */
export const TRACEPARENT_HEADER = "traceparent";

/** The span context of a `traceparent` value, or undefined when it is missing or malformed. */
export function parseTraceparent(value: string | null | undefined): SpanContext | undefined {
  const m = value ? TRACEPARENT.exec(value.trim().toLowerCase()) : null;
  if (!m) return undefined;
  const sc: SpanContext = {
    traceId: m[1] as string,
    spanId: m[2] as string,
    traceFlags: Number.parseInt(m[3] as string, 16),
    isRemote: true,
  };
  return isSpanContextValid(sc) ? sc : undefined;
}

export function formatTraceparent(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-${sc.traceFlags.toString(16).padStart(2, "0")}`;
}

/** A new span in the parent's trace, or the first span of a new (sampled) trace. */
export function childSpan(parent?: SpanContext): SpanContext {
  return {
    traceId: parent?.traceId ?? randomHex(16),
    spanId: randomHex(8),
    traceFlags: parent?.traceFlags ?? TraceFlags.SAMPLED,
  };
}

/** The span of the work running now (an RPC, an event handler), if any. */
export function currentSpan(): SpanContext | undefined {
  return storage.getStore();
}

/** Runs `fn` as the span `sc`: logs, outgoing calls and enqueued events within it carry its trace. */
export function runInSpan<T>(sc: SpanContext, fn: () => T): T {
  return storage.run(sc, fn);
}
