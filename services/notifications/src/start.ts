import { connectIdentity } from "@fintech/auth";
import { openServiceInfra } from "@fintech/events";
import type { Clock, InProcessTransport, StartedService } from "@fintech/platform";
import { systemClock } from "@fintech/platform";
import type { Logger } from "pino";
import type { NotificationsConfig } from "./config.js";
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
    logger,
  });
  const identity = opts.transports?.identity;
  const { authenticator } = connectIdentity(config, {
    logger,
    events: { nc, namespace: config.EVENTS_NAMESPACE },
    ...(identity === undefined ? {} : { identity }),
  });
  const notifications = build(config, {
    pool,
    nc,
    logger,
    authenticator,
    clock: opts.clock ?? systemClock,
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
