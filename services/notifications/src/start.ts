import type { Transport } from "@connectrpc/connect";
import { createClient } from "@connectrpc/connect";
import { connectIdentity } from "@fintech/auth";
import { openServiceInfra } from "@fintech/events";
import type { Clock, InProcessTransport, StartedService } from "@fintech/platform";
import { createServiceTransport, observeClientCalls, systemClock } from "@fintech/platform";
import { IdentityService } from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import type { Logger } from "pino";
import type { NotificationsConfig } from "./config.js";
import { identityRecipients } from "./identity-recipients.js";
import { build, migrationsDir } from "./server.js";

/**
 * Starts notifications as main.ts runs it: migrates its schema, opens its pool and NATS connection, builds it
 * and listens on PORT. Identity is reached at IDENTITY_URL unless `transports.identity` gives it in this
 * process. The result's `transport` reaches notifications from the same process. Clock default: the system's.
 */
export async function startNotifications(
  config: NotificationsConfig,
  opts: { logger: Logger; clock?: Clock; transports?: { identity?: InProcessTransport } },
): Promise<StartedService> {
  const { logger } = opts;
  const { pool, nc, close } = await openServiceInfra({
    name: "notifications",
    config,
    migrationsDir,
    consumes: ["wallet", "fraud", "identity"],
    logger,
  });
  const identity = opts.transports?.identity;
  const { authenticator, credentials } = connectIdentity(config, {
    logger,
    events: { nc, namespace: config.EVENTS_NAMESPACE },
    ...(identity === undefined ? {} : { identity }),
  });
  // Identity is asked for an address as this service, once it has credentials.
  const interceptors =
    credentials === undefined ? [observeClientCalls] : [observeClientCalls, credentials.interceptor];
  const identityTransport: Transport =
    identity === undefined
      ? createServiceTransport(config.IDENTITY_URL, { protocol: "grpc", interceptors })
      : identity({ interceptors });
  const notifications = build(config, {
    pool,
    nc,
    logger,
    authenticator,
    clock: opts.clock ?? systemClock,
    recipients: identityRecipients(createClient(IdentityService, identityTransport)),
  });
  const listening = await notifications.start();
  logger.info({ url: listening.url, metrics: listening.metricsUrl }, "notifications listening");
  return {
    listening,
    transport: notifications.server.transport,
    async stop() {
      await notifications.stop();
      await close();
    },
  };
}
