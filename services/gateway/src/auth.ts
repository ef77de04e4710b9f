import type { Authenticator, ServiceCredentials } from "@fintech/auth";
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
 * believe it. Without SERVICE_CLIENT_SECRET, API keys are refused and there are no credentials.
 */
export function connectGatewayIdentity(
  config: GatewayConfig,
  opts: { logger: Logger; protocol?: BackendProtocol; clock?: () => Date; identity?: InProcessTransport },
): { authenticator: Authenticator; credentials: ServiceCredentials | undefined } {
  const { authenticator, credentials } = connectIdentity(config, {
    logger: opts.logger,
    transport: (url, interceptors) =>
      createBackendTransport(url, opts.protocol, interceptors, {
        name: "identity",
        resolveIntervalMs: config.UPSTREAM_RESOLVE_MS,
      }),
    ...(opts.clock === undefined ? {} : { clock: opts.clock }),
    ...(opts.identity === undefined ? {} : { identity: opts.identity }),
  });
  return { authenticator, credentials };
}

/** The credential check of {@link connectGatewayIdentity} alone. */
export function createIdentityAuthenticator(
  config: GatewayConfig,
  opts: { logger: Logger; protocol?: BackendProtocol; clock?: () => Date; identity?: InProcessTransport },
): Authenticator {
  return connectGatewayIdentity(config, opts).authenticator;
}
