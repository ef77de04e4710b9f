import { traceTransactions } from "@fintech/db";
import type { Attributes, Span, SpanContext, SpanKind, Tracer } from "@opentelemetry/api";
import {
  DiagLogLevel,
  diag,
  SpanKind as Kind,
  ROOT_CONTEXT,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { OTLPTraceExporter as OtlpJsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as OtlpProtobufExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import type { Sampler } from "@opentelemetry/sdk-trace";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import type { Logger } from "pino";
import { z } from "zod";
import { envBool, envInt, parseConfig } from "./config.js";
import type { Running } from "./run-main.js";
import { childSpan, currentSpan, runInSpan } from "./trace-context.js";

// Spans are exported only when an OTLP endpoint is configured. Until then (and in every test that does not start
// it) `tracer` stays undefined and every instrumented place takes its old path: a span id for the logs from
// trace-context.ts, no SDK object, no export. The ids the logs print are the exported spans' own ids, because the
// span context that trace-context.ts keeps for the running work is the SDK span's.

let tracer: Tracer | undefined;
// The live span behind a span context in trace-context's storage, so work running inside it can mark it failed.
const live = new WeakMap<SpanContext, Span>();

const SAMPLERS = [
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
] as const;

/** The standard OpenTelemetry variables this platform reads (the exporter reads headers, timeout, TLS itself). */
const telemetryEnv = z.object({
  OTEL_SDK_DISABLED: envBool(false),
  OTEL_SERVICE_NAME: z.string().optional(),
  OTEL_RESOURCE_ATTRIBUTES: z.string().optional(),
  OTEL_TRACES_EXPORTER: z.enum(["otlp", "none"]).default("otlp"),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url().optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(["http/protobuf", "http/json"]).default("http/protobuf"),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z.enum(["http/protobuf", "http/json"]).optional(),
  OTEL_TRACES_SAMPLER: z.enum(SAMPLERS).default("parentbased_always_on"),
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(1),
  OTEL_BSP_SCHEDULE_DELAY: envInt(5000, { min: 0 }),
  OTEL_BSP_EXPORT_TIMEOUT: envInt(30_000, { min: 1 }),
  OTEL_BSP_MAX_QUEUE_SIZE: envInt(2048, { min: 1 }),
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: envInt(512, { min: 1 }),
});

/** What {@link startTelemetry} hands back. */
export interface Telemetry {
  /** Whether spans are exported (an OTLP endpoint is configured). */
  readonly exporting: boolean;
  /** Exports the spans ended so far; resolves once the collector has answered (or the export timed out). */
  flush(): Promise<void>;
  /** Exports what is left and stops exporting; call it last, after the servers have closed. */
  shutdown(): Promise<void>;
}

const off: Telemetry = { exporting: false, flush: async () => {}, shutdown: async () => {} };

/**
 * Starts exporting traces over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) is set, with
 * the standard OpenTelemetry variables: `OTEL_SERVICE_NAME` (default `serviceName`), `OTEL_RESOURCE_ATTRIBUTES`,
 * `OTEL_EXPORTER_OTLP_PROTOCOL` (`http/protobuf`, the default, or `http/json`), `OTEL_TRACES_SAMPLER` and `_ARG`
 * (default parentbased_always_on), `OTEL_BSP_*` (batching: 5000 ms delay, 512 spans a batch, 2048 queued), and
 * `OTEL_SDK_DISABLED` / `OTEL_TRACES_EXPORTER=none` to switch it off. Without an endpoint nothing is started and
 * nothing costs anything. Call it once per process, first thing in main.ts.
 * @throws ConfigError naming the variables with bad values.
 */
export function startTelemetry(opts: {
  serviceName: string;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
}): Telemetry {
  const env = parseConfig(telemetryEnv, opts.env ?? process.env);
  const endpoint =
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
    (env.OTEL_EXPORTER_OTLP_ENDPOINT === undefined
      ? undefined
      : `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, "")}/v1/traces`);
  if (env.OTEL_SDK_DISABLED || env.OTEL_TRACES_EXPORTER === "none" || endpoint === undefined) return off;

  const log = opts.logger.child({ component: "telemetry" });
  // The SDK reports failed exports through diag; without a logger they would vanish.
  diag.setLogger(
    {
      error: (message) => log.warn(message),
      warn: (message) => log.warn(message),
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
  const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL;
  const exporter =
    protocol === "http/json"
      ? new OtlpJsonExporter({ url: endpoint })
      : new OtlpProtobufExporter({ url: endpoint });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      ...resourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES),
      "service.name": env.OTEL_SERVICE_NAME ?? opts.serviceName,
    }),
    sampler: sampler(env.OTEL_TRACES_SAMPLER, env.OTEL_TRACES_SAMPLER_ARG),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter,
        scheduledDelayMillis: env.OTEL_BSP_SCHEDULE_DELAY,
        exportTimeoutMillis: env.OTEL_BSP_EXPORT_TIMEOUT,
        maxQueueSize: env.OTEL_BSP_MAX_QUEUE_SIZE,
        maxExportBatchSize: Math.min(env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE, env.OTEL_BSP_MAX_QUEUE_SIZE),
      }),
    ],
  });
  tracer = provider.getTracer("@fintech/platform");
  // A transaction run for a request or an event handler is a span of its trace; one run by a background job
  // (the relay's pass, a sweeper) outside any trace starts none, or every poll would be a trace of its own.
  traceTransactions((run) =>
    currentSpan() === undefined
      ? run()
      : withSpan("transaction", { kind: Kind.CLIENT, attributes: { "db.system.name": "postgresql" } }, run),
  );
  log.info({ endpoint, protocol }, "exporting traces");
  let stopped: Promise<void> | undefined;
  return {
    exporting: true,
    flush: () => provider.forceFlush(),
    shutdown() {
      stopped ??= (async () => {
        tracer = undefined;
        traceTransactions(undefined);
        await provider.shutdown();
      })();
      return stopped;
    },
  };
}

/**
 * For runMain: starts telemetry (startTelemetry, from the process environment) before `start`, and exports what
 * is left after the started service has stopped, so the last requests of a stopping process are not lost.
 */
export function withTelemetry(
  serviceName: string,
  logger: Logger,
  start: () => Promise<Running>,
): () => Promise<Running> {
  return async () => {
    const telemetry = startTelemetry({ serviceName, logger });
    const running = await start();
    return {
      async stop() {
        try {
          await running.stop();
        } finally {
          await telemetry.shutdown();
        }
      },
    };
  };
}

function sampler(name: (typeof SAMPLERS)[number], ratio: number): Sampler {
  switch (name) {
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "traceidratio":
      return new TraceIdRatioBasedSampler(ratio);
    case "parentbased_always_on":
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  }
}

/** `key1=value1,key2=value2`, percent-encoded, as OTEL_RESOURCE_ATTRIBUTES has them; malformed pairs are skipped. */
function resourceAttributes(raw: string | undefined): Attributes {
  const attributes: Attributes = {};
  for (const pair of (raw ?? "").split(",")) {
    const eq = pair.indexOf("=");
    if (eq <= 0) continue;
    try {
      attributes[decodeURIComponent(pair.slice(0, eq).trim())] = decodeURIComponent(
        pair.slice(eq + 1).trim(),
      );
    } catch {
      // A malformed escape: leave that attribute out rather than refuse to start.
    }
  }
  return attributes;
}

/** Whether spans are being exported (see {@link startTelemetry}). */
export function tracing(): boolean {
  return tracer !== undefined;
}

/** Options of {@link startSpan} and {@link withSpan}. */
export interface SpanOptions {
  kind: SpanKind;
  /** The parent span (a caller's `traceparent`, the current span); undefined starts a trace. */
  parent: SpanContext | undefined;
  attributes?: Attributes;
}

/**
 * A span to be exported, or undefined when no spans are (so callers skip the work). Its context is what the work
 * it stands for should run as (runInSpan) and send on as `traceparent`; end it with {@link endSpan}.
 */
export function startSpan(name: string, opts: SpanOptions): Span | undefined {
  if (tracer === undefined) return undefined;
  const parent = opts.parent === undefined ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, opts.parent);
  const span = tracer.startSpan(
    name,
    opts.attributes === undefined ? { kind: opts.kind } : { kind: opts.kind, attributes: opts.attributes },
    parent,
  );
  live.set(span.spanContext(), span);
  return span;
}

/** Ends a span from {@link startSpan}; with an error, its status is ERROR with the error's name (never its message). */
export function endSpan(span: Span, error?: unknown): void {
  if (error !== undefined) failSpan(span, error);
  span.end();
}

/**
 * Runs `fn` as a new span: a child of `opts.parent` (default: the current span), exported when spans are, ended
 * when `fn` settles (ERROR if it rejects). When nothing is exported it still runs as a child span of its own, so
 * its log lines have a span id.
 */
export function withSpan<T>(
  name: string,
  opts: Omit<SpanOptions, "parent"> & { parent?: SpanContext | undefined },
  fn: () => Promise<T>,
): Promise<T> {
  const parent = "parent" in opts ? opts.parent : currentSpan();
  const span = startSpan(name, { ...opts, parent });
  if (span === undefined) return runInSpan(childSpan(parent), fn);
  return runInSpan(span.spanContext(), fn).then(
    (value) => {
      span.end();
      return value;
    },
    (err: unknown) => {
      endSpan(span, err);
      throw err;
    },
  );
}

/** Marks the current span failed (a consumer's handler that threw and will be retried); no-op when not exported. */
export function markSpanFailed(error: unknown): void {
  const sc = currentSpan();
  const span = sc === undefined ? undefined : live.get(sc);
  if (span !== undefined) failSpan(span, error);
}

function failSpan(span: Span, error: unknown): void {
  const type = error instanceof Error ? error.name : typeof error;
  span.setStatus({ code: SpanStatusCode.ERROR, message: type });
  span.setAttribute("error.type", type);
}
