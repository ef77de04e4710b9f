import type { Server } from "node:http";
import { createServer } from "node:http";
import { collectProcessMetrics } from "@fintech/platform";
import { Counter, Histogram, register } from "prom-client";

// Seconds; a request through the gateway is a backend call plus a little.
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const LABELS = ["method", "route", "status"] as const;

function getOrCreate<T>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}

/**
 * The gateway's Prometheus instruments, in prom-client's default registry (shared by every gateway built in one
 * process, as in tests): requests and their duration by method, route template and status; rate-limit refusals;
 * requests let through because the limiter (Redis) could not answer.
 */
export function gatewayMetrics() {
  collectProcessMetrics();
  const requests = getOrCreate(
    "http_server_requests_total",
    () =>
      new Counter({
        name: "http_server_requests_total",
        help: "HTTP requests by method, route template and status.",
        labelNames: LABELS,
      }),
  );
  const duration = getOrCreate(
    "http_server_duration_seconds",
    () =>
      new Histogram({
        name: "http_server_duration_seconds",
        help: "HTTP request duration in seconds by method, route template and status.",
        labelNames: LABELS,
        buckets: BUCKETS,
      }),
  );
  const rateLimited = getOrCreate(
    "gateway_rate_limited_total",
    () =>
      new Counter({
        name: "gateway_rate_limited_total",
        help: "Requests refused with 429 by the gateway's rate limit.",
      }),
  );
  const failOpen = getOrCreate(
    "gateway_rate_limit_fail_open_total",
    () =>
      new Counter({
        name: "gateway_rate_limit_fail_open_total",
        help: "Requests let through unchecked because Redis could not answer the rate limiter.",
      }),
  );
  return {
    observe(method: string, route: string, status: number, seconds: number): void {
      const labels = { method, route, status: String(status) };
      requests.inc(labels);
      duration.observe(labels, seconds);
    },
    rateLimited: () => rateLimited.inc(),
    failOpen: () => failOpen.inc(),
  };
}

/** A plain HTTP/1.1 server with GET /metrics (prom-client's default registry), apart from the public port. */
export function createMetricsServer(): Server {
  return createServer((req, res) => {
    if (req.method === "GET" && req.url?.split("?", 1)[0] === "/metrics") {
      register.metrics().then(
        (body) => res.writeHead(200, { "content-type": register.contentType }).end(body),
        (err: unknown) =>
          res.writeHead(500, { "content-type": "text/plain" }).end(`metrics failed: ${String(err)}`),
      );
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    }
  });
}
