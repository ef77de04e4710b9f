import type { DescMethod } from "@bufbuild/protobuf";
import type { Code, Interceptor } from "@connectrpc/connect";
import { Counter, Histogram, register } from "prom-client";
import { codeLabel } from "./code-label.js";
import { observeCall } from "./observe.js";
import { propagateTrace } from "./rpc-tracing.js";

const DURATION = "rpc_client_duration_seconds";
const REQUESTS = "rpc_client_requests_total";
const LABELS = ["service", "method", "code"] as const;
// Seconds, as the server side's: a call to another service is that service's RPC plus the network.
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type Label = (typeof LABELS)[number];

interface Children {
  duration: Histogram.Internal<Label>;
  requests: Counter.Internal;
}

let instruments: { duration: Histogram<Label>; requests: Counter<Label> } | undefined;
const cache = new WeakMap<DescMethod, (Children | undefined)[]>();

// In prom-client's default registry, once per process (every client in it shares them), made on first use.
function childrenFor(method: DescMethod, code: Code | 0): Children {
  let byCode = cache.get(method);
  if (byCode === undefined) {
    byCode = [];
    cache.set(method, byCode);
  }
  let children = byCode[code];
  if (children === undefined) {
    instruments ??= {
      duration:
        existing(DURATION, Histogram) ??
        new Histogram({
          name: DURATION,
          help: "Duration of calls this process made to other services' RPCs, in seconds, by final status code.",
          labelNames: LABELS,
          buckets: BUCKETS,
        }),
      requests:
        existing(REQUESTS, Counter) ??
        new Counter({
          name: REQUESTS,
          help: "Calls this process made to other services' RPCs, by final status code (errors are the codes not OK).",
          labelNames: LABELS,
        }),
    };
    const labels = { service: method.parent.typeName, method: method.name, code: codeLabel(code) };
    children = {
      duration: instruments.duration.labels(labels),
      requests: instruments.requests.labels(labels),
    };
    byCode[code] = children;
  }
  return children;
}

function existing<T>(name: string, kind: abstract new (...args: never[]) => T): T | undefined {
  const metric = register.getSingleMetric(name);
  return metric instanceof kind ? metric : undefined;
}

/**
 * Client interceptor recording `rpc_client_requests_total` (counter) and `rpc_client_duration_seconds`
 * (histogram) by the callee's protobuf service full name, method and final code ("OK", "Unavailable", ...); a
 * call that got no answer counts under the code the client saw (Unavailable, DeadlineExceeded).
 */
export const recordClientMetrics: Interceptor = (next) => (req) => {
  const start = performance.now();
  return observeCall(next, req, (code) => {
    const children = childrenFor(req.method, code);
    children.duration.observe((performance.now() - start) / 1000);
    children.requests.inc();
  });
};

/**
 * What every client of another service carries: {@link recordClientMetrics} around propagateTrace (the caller's
 * trace sent on, and a CLIENT span when spans are exported). Put it first in the transport's interceptors.
 */
export const observeClientCalls: Interceptor = (next) => recordClientMetrics(propagateTrace(next));
