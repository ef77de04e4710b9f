import { Counter, register } from "prom-client";

const REQUESTS = "rpc_client_upstream_requests_total";
const LABELS = ["upstream", "address"] as const;

let requests: Counter<(typeof LABELS)[number]> | undefined;

/**
 * The counter of requests this process sent to one address of another service, `rpc_client_upstream_requests_total`
 * by `upstream` (the service called) and `address` (host:port the request went to), in prom-client's default
 * registry, made on first use. How evenly a balanced client spreads its calls over replicas is read from it.
 */
export function upstreamRequestCounter(upstream: string, address: string): Counter.Internal {
  if (requests === undefined) {
    const metric = register.getSingleMetric(REQUESTS);
    requests =
      metric instanceof Counter
        ? (metric as Counter<(typeof LABELS)[number]>)
        : new Counter({
            name: REQUESTS,
            help: "Requests this process sent to each address of another service, after balancing.",
            labelNames: LABELS,
          });
  }
  return requests.labels({ upstream, address });
}
