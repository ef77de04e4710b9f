import type { Server } from "node:http";
import { createServer as createHttpServer } from "node:http";
import type { DescMethod } from "@bufbuild/protobuf";
import type { Code, Interceptor } from "@connectrpc/connect";
import { Counter, collectDefaultMetrics, Histogram, register } from "prom-client";
import { codeLabel } from "./code-label.js";
import { observeCall } from "./observe.js";

const DURATION = "rpc_server_duration_seconds";
const REQUESTS = "rpc_server_requests_total";
const LABELS = ["service", "method", "code"] as const;
// Seconds; finer at the low end where a healthy internal RPC lives.
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Instruments {
  duration: Histogram<(typeof LABELS)[number]>;
  requests: Counter<(typeof LABELS)[number]>;
}

let instruments: Instruments | undefined;

/**
 * Milliseconds between the samples of the event loop's delay behind `nodejs_eventloop_lag_*`. Each sample is a
 * timer that wakes the process: at prom-client's default of 10 ms an idle service woke 100 times a second for it
 * (most of its wake-ups) and spent up to 9 ms of CPU a second, half of what an idle platform in separate processes
 * used. The lag gauges count from the interval: an event loop that is never late reads 0.1 s.
 */
const EVENT_LOOP_SAMPLE_MS = 100;

/** prom-client's default process metrics (CPU, memory, handles, GC, event loop lag), once per process. */
export function collectProcessMetrics(): void {
  if (register.getSingleMetric("process_cpu_seconds_total") !== undefined) return;
  collectDefaultMetrics({ eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
}

// prom-client's default registry is process-wide, so the metrics (and the default process metrics) are created
// once per process and shared by every server in it, told apart by their `service` label.
function getInstruments(): Instruments {
  if (instruments !== undefined) {
    return instruments;
  }
  collectProcessMetrics();
  const existingDuration = register.getSingleMetric(DURATION);
  const existingRequests = register.getSingleMetric(REQUESTS);
  instruments = {
    duration:
      existingDuration instanceof Histogram
        ? existingDuration
        : new Histogram({
            name: DURATION,
            help: "Duration of RPCs handled by this server, in seconds, by final status code.",
            labelNames: LABELS,
            buckets: BUCKETS,
          }),
    requests:
      existingRequests instanceof Counter
        ? existingRequests
        : new Counter({
            name: REQUESTS,
            help: "RPCs handled by this server, by final status code.",
            labelNames: LABELS,
          }),
  };
  return instruments;
}

interface Children {
  duration: Histogram.Internal<(typeof LABELS)[number]>;
  requests: Counter.Internal;
}

/**
 * Records `rpc_server_duration_seconds` (histogram) and `rpc_server_requests_total` (counter), labelled with the
 * protobuf service's full name, the method name and the final code ("OK", "NotFound", ...). Label children are
 * cached per method and code, so recording an RPC does no label hashing.
 */
export function createMetricsInterceptor(): Interceptor {
  const { duration, requests } = getInstruments();
  const cache = new WeakMap<DescMethod, (Children | undefined)[]>();
  const childrenFor = (method: DescMethod, code: Code | 0): Children => {
    let byCode = cache.get(method);
    if (byCode === undefined) {
      byCode = [];
      cache.set(method, byCode);
    }
    let children = byCode[code];
    if (children === undefined) {
      const labels = { service: method.parent.typeName, method: method.name, code: codeLabel(code) };
      children = { duration: duration.labels(labels), requests: requests.labels(labels) };
      byCode[code] = children;
    }
    return children;
  };
  return (next) => (req) => {
    const start = performance.now();
    return observeCall(next, req, (code) => {
      const children = childrenFor(req.method, code);
      children.duration.observe((performance.now() - start) / 1000);
      children.requests.inc();
    });
  };
}

/**
 * A plain HTTP/1.1 server for Prometheus and liveness probes: `GET /metrics` renders prom-client's default
 * registry, `GET /healthz` answers 200 "ok" (the process is up; readiness is the gRPC health service's job).
 */
export function createMetricsServer(): Server {
  getInstruments();
  return createHttpServer((req, res) => {
    const path = req.url?.split("?", 1)[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
    } else if (path === "/metrics") {
      register.metrics().then(
        (body) => {
          res.writeHead(200, { "content-type": register.contentType }).end(body);
        },
        (err: unknown) => {
          res
            .writeHead(500, { "content-type": "text/plain" })
            .end(`metrics collection failed: ${String(err)}`);
        },
      );
    } else if (path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    }
  });
}
