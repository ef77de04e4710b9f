import { connectIdentity } from "@fintech/auth";
import { openServiceInfra } from "@fintech/events";
import type { Clock, InProcessTransport, StartedService } from "@fintech/platform";
import { systemClock } from "@fintech/platform";
import type { Logger } from "pino";
import type { FxConfig } from "./config.js";
import { build, migrationsDir } from "./server.js";

/**
 * Starts fx as main.ts runs it: migrates its schema, opens its pool and NATS connection, builds it, sets the
 * seed rates (FX_SEED_RATES) and listens on PORT. Identity is reached at IDENTITY_URL unless
 * `transports.identity` gives it in this process. The result's `transport` reaches fx from the same process.
 * Clock default: the system's.
 */
export async function startFx(
  config: FxConfig,
  opts: { logger: Logger; clock?: Clock; transports?: { identity?: InProcessTransport } },
): Promise<StartedService> {
  const { logger } = opts;
  const { pool, nc, close } = await openServiceInfra({ name: "fx", config, migrationsDir, logger });
  const identity = opts.transports?.identity;
  const { authenticator } = connectIdentity(config, {
    logger,
    events: { nc, namespace: config.EVENTS_NAMESPACE },
    ...(identity === undefined ? {} : { identity }),
  });
  const fx = build(config, { pool, nc, logger, authenticator, clock: opts.clock ?? systemClock });
  const seeded = await fx.service.seed(config.FX_SEED_RATES);
  if (seeded > 0) logger.info({ seeded }, "seed rates set");
  const listening = await fx.start();
  logger.info({ url: listening.url, metrics: listening.metricsUrl }, "fx listening");
  return {
    listening,
    transport: fx.server.transport,
    async stop() {
      await fx.stop();
      await close();
    },
  };
}
