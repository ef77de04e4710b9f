import { connectIdentity } from "@fintech/auth";
import { openServiceInfra } from "@fintech/events";
import type { Clock, InProcessTransport, StartedService } from "@fintech/platform";
import { systemClock } from "@fintech/platform";
import type { Logger } from "pino";
import type { LedgerConfig } from "./config.js";
import { build, migrationsDir } from "./server.js";

/**
 * Starts the ledger as main.ts runs it: migrates its schema, opens its pool and NATS connection, builds it and
 * listens on PORT. Identity is reached at IDENTITY_URL unless `transports.identity` gives it in this process.
 * The result's `transport` reaches the ledger from the same process. Clock default: the system's.
 */
export async function startLedger(
  config: LedgerConfig,
  opts: { logger: Logger; clock?: Clock; transports?: { identity?: InProcessTransport } },
): Promise<StartedService> {
  const { logger } = opts;
  const { pool, nc, close } = await openServiceInfra({ name: "ledger", config, migrationsDir, logger });
  const identity = opts.transports?.identity;
  const ledger = build(config, {
    pool,
    nc,
    logger,
    clock: opts.clock ?? systemClock,
    authenticator: connectIdentity(config, { logger, ...(identity === undefined ? {} : { identity }) })
      .authenticator,
  });
  const listening = await ledger.start();
  logger.info({ url: listening.url, metrics: listening.metricsUrl }, "ledger listening");
  return {
    listening,
    transport: ledger.server.transport,
    async stop() {
      await ledger.stop();
      await close();
    },
  };
}
