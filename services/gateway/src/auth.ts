import type { Authenticator, ServiceCredentials, UserAccessCache } from "@fintech/auth";
import { connectIdentity } from "@fintech/auth";
import type { InProcessTransport } from "@fintech/platform";
import type { Logger } from "pino";
import type { GatewayConfig } from "./config.js";
import type { BackendProtocol } from "./transports.js";
import { createBackendTransport } from "./transports.js";

/**
 * The gateway's link to identity (see connectIdentity), over the same protocol as every other backend call, or
 * through `identity` when identity runs in this process: the credential check, and the gateway's own service
 * credentials, whose token goes to backends beside each request's client address (x-forwarded-by) so that they
 * believe it, with what identity last said of the caller (`userAccess`, sent as x-user-access). Without
 * SERVICE_CLIENT_SECRET, API keys are refused and there are neither.
 */
export function connectGatewayIdentity(
  config: GatewayConfig,
  opts: { logger: Logger; protocol?: BackendProtocol; clock?: () => Date; identity?: InProcessTransport },
): {
  authenticator: Authenticator;
  credentials: ServiceCredentials | undefined;
  userAccess: UserAccessCache | undefined;
} {
  return connectIdentity(config, {
    logger: opts.logger,
    transport: (url, interceptors) =>
      createBackendTransport(url, opts.protocol, interceptors, {
        name: "identity",
        resolveIntervalMs: config.UPSTREAM_RESOLVE_MS,
      }),
    ...(opts.clock === undefined ? {} : { clock: opts.clock }),
    ...(opts.identity === undefined ? {} : { identity: opts.identity }),
  });
}

/** The credential check of {@link connectGatewayIdentity} alone. */
export function createIdentityAuthenticator(
  config: GatewayConfig,
  opts: { logger: Logger; protocol?: BackendProtocol; clock?: () => Date; identity?: InProcessTransport },
): Authenticator {
  return connectGatewayIdentity(config, opts).authenticator;
}
