import type { Authenticator } from "@fintech/auth";
import { connectIdentity } from "@fintech/auth";
import type { InProcessTransport } from "@fintech/platform";
import type { Logger } from "pino";
import type { GatewayConfig } from "./config.js";
import type { BackendProtocol } from "./transports.js";
import { createBackendTransport } from "./transports.js";

/**
 * The gateway's credential check, backed by identity (see connectIdentity), over the same protocol as
 * every other backend call, or through `identity` when identity runs in this process. Without
 * SERVICE_CLIENT_SECRET, API keys are refused.
 */
export function createIdentityAuthenticator(
  config: GatewayConfig,
  opts: { logger: Logger; protocol?: BackendProtocol; clock?: () => Date; identity?: InProcessTransport },
): Authenticator {
  return connectIdentity(config, {
    logger: opts.logger,
    transport: (url, interceptors) => createBackendTransport(url, opts.protocol, interceptors),
    ...(opts.clock === undefined ? {} : { clock: opts.clock }),
    ...(opts.identity === undefined ? {} : { identity: opts.identity }),
  }).authenticator;
}
