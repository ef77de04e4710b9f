import { DEFAULT_RESOLVE_INTERVAL_MS } from "./balanced-session-manager.js";
import { envInt, envServiceUrl } from "./config.js";

/** One service of the platform as everything that starts, reaches, deploys or checks it sees it. */
export interface ServiceEntry {
  /** Its directory under services/, its Postgres schema (backends), SERVICE_CLIENT_ID and its name in logs. */
  readonly name: string;
  /** What its port speaks: gRPC, gRPC-Web and Connect for a backend; REST over HTTP for the edge. */
  readonly kind: "grpc" | "http";
  /** Default port (PORT); the gRPC port of a backend, the HTTP port of the edge. */
  readonly port: number;
  /** Default metrics port (METRICS_PORT), /metrics and /healthz over HTTP/1.1. */
  readonly metricsPort: number;
  /** The variable every other service (and the gateway) reaches it at, `<NAME>_URL`; the edge has none. */
  readonly urlEnv?: string;
  /** Whether the gateway serves REST routes from its RPCs' google.api.http annotations. */
  readonly rest: boolean;
}

/**
 * Every service of the platform, in start order for a launcher (backends, then the edge). The launcher
 * (tools/dev), the gateway's backends and config defaults, the services' client URL defaults, the benchmarks,
 * the fault suite and the deploy checks (deploy/test, against the Helm values and docker-compose.yml) read
 * it. A new service adds one entry here.
 */
export const serviceRegistry = {
  identity: {
    name: "identity",
    kind: "grpc",
    port: 50051,
    metricsPort: 9151,
    urlEnv: "IDENTITY_URL",
    rest: true,
  },
  wallet: { name: "wallet", kind: "grpc", port: 50052, metricsPort: 9152, urlEnv: "WALLET_URL", rest: true },
  ledger: { name: "ledger", kind: "grpc", port: 50053, metricsPort: 9153, urlEnv: "LEDGER_URL", rest: false },
  fraud: { name: "fraud", kind: "grpc", port: 50054, metricsPort: 9154, urlEnv: "FRAUD_URL", rest: true },
  fx: { name: "fx", kind: "grpc", port: 50055, metricsPort: 9155, urlEnv: "FX_URL", rest: true },
  analytics: {
    name: "analytics",
    kind: "grpc",
    port: 50056,
    metricsPort: 9156,
    urlEnv: "ANALYTICS_URL",
    rest: true,
  },
  notifications: {
    name: "notifications",
    kind: "grpc",
    port: 50057,
    metricsPort: 9157,
    urlEnv: "NOTIFICATIONS_URL",
    rest: true,
  },
  gateway: { name: "gateway", kind: "http", port: 8080, metricsPort: 9180, rest: false },
} as const satisfies Record<string, ServiceEntry>;

type Registry = typeof serviceRegistry;
/** The name of a service of the platform. */
export type ServiceName = keyof Registry;
/** A service other services call: one with a URL variable (every backend). */
export type BackendName = {
  [N in ServiceName]: Registry[N] extends { urlEnv: string } ? N : never;
}[ServiceName];
/** A backend with REST routes at the gateway. */
export type RestServiceName = {
  [N in BackendName]: Registry[N]["rest"] extends true ? N : never;
}[BackendName];
/** The URL variable of a backend: `UrlEnvOf<"fx">` is "FX_URL". */
export type UrlEnvOf<N extends BackendName> = Registry[N]["urlEnv"];

/** Every service of the platform, in the registry's order. */
export const platformServices: readonly ServiceEntry[] = Object.values(serviceRegistry);

/** Where a service listens by default on this machine: `http://127.0.0.1:<port>` (`host` to change the host). */
export function serviceUrl(service: Pick<ServiceEntry, "port">, host = "127.0.0.1"): string {
  return `http://${host}:${service.port}`;
}

/**
 * The URL variables of the backends a service calls, for its config's z.object: `...serviceUrlsEnv("fx")` is
 * `FX_URL`, an absolute URL or a comma-separated list of them (envServiceUrl) defaulting to {@link serviceUrl} of
 * fx, and UPSTREAM_RESOLVE_MS: how often the host names in them are looked up again, in ms (default 30000).
 */
export function serviceUrlsEnv<const N extends BackendName>(...names: N[]) {
  const shape: Record<string, ReturnType<typeof envServiceUrl>> = {};
  for (const name of names) {
    const backend: ServiceEntry = serviceRegistry[name];
    if (backend.urlEnv !== undefined) shape[backend.urlEnv] = envServiceUrl(serviceUrl(backend));
  }
  return {
    ...(shape as { [K in N as UrlEnvOf<K>]: ReturnType<typeof envServiceUrl> }),
    UPSTREAM_RESOLVE_MS: envInt(DEFAULT_RESOLVE_INTERVAL_MS, { min: 1_000, max: 3_600_000 }),
  };
}
