import type { DevService } from "./services.js";

/**
 * Where `./dev start` binds every service port and metrics port unless HOST says otherwise. A service port
 * takes user tokens directly, without the gateway's rate limit, so on a laptop it stays on loopback; set
 * HOST=0.0.0.0 to reach the platform from another machine.
 */
export const DEFAULT_DEV_HOST = "127.0.0.1";

// Variables a service may be given with its own prefix (FX_PORT=...) so ports and addresses don't collide.
const PER_SERVICE = ["PORT", "METRICS_PORT", "HOST"];

/**
 * The environment `./dev start` gives one service: the launcher's own, with `<NAME>_PORT`, `<NAME>_METRICS_PORT`
 * and `<NAME>_HOST` applied, the service's default ports, HOST {@link DEFAULT_DEV_HOST} and, for local tools such
 * as grpcurl, GRPC_REFLECTION=true, each unless already set.
 */
export function serviceEnv(svc: DevService, parent: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const prefix = `${svc.name.toUpperCase()}_`;
  const own = Object.fromEntries(
    Object.entries(parent)
      .filter(([k]) => k.startsWith(prefix) && PER_SERVICE.includes(k.slice(prefix.length)))
      .map(([k, v]) => [k.slice(prefix.length), v]),
  );
  const env: NodeJS.ProcessEnv = { ...parent, ...own };
  env.PORT ||= String(svc.port);
  env.METRICS_PORT ||= String(svc.metricsPort);
  env.HOST ||= DEFAULT_DEV_HOST;
  if (svc.kind === "grpc") env.GRPC_REFLECTION ||= "true";
  return env;
}

/** The address a client on this machine reaches a service bound to `host` at (loopback for a wildcard). */
export function reachableHost(host: string): string {
  return host === "0.0.0.0" || host === "::" || host === "" ? "127.0.0.1" : host;
}
