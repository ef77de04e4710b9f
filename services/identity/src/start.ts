import { openServiceInfra } from "@fintech/events";
import type { Clock, StartedService } from "@fintech/platform";
import { systemClock } from "@fintech/platform";
import type { Logger } from "pino";
import type { IdentityConfig } from "./config.js";
import { build, migrationsDir } from "./server.js";

/**
 * Starts identity as main.ts runs it: migrates its schema, opens its pool and NATS connection, builds it and
 * listens on PORT. The result's `transport` reaches it from the same process. Clock default: the system's.
 */
export async function startIdentity(
  config: IdentityConfig,
  opts: { logger: Logger; clock?: Clock },
): Promise<StartedService> {
  const { logger } = opts;
  const { pool, nc, close } = await openServiceInfra({ name: "identity", config, migrationsDir, logger });
  const identity = build(config, { pool, nc, logger, clock: opts.clock ?? systemClock });
  const listening = await identity.start();
  logger.info({ url: listening.url, metrics: listening.metricsUrl }, "identity listening");
  return {
    listening,
    transport: identity.server.transport,
    async stop() {
      await identity.stop();
      await close();
    },
  };
}
