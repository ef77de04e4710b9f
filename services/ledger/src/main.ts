import { connectIdentity } from "@fintech/auth";
import { openServiceInfra } from "@fintech/events";
import { createLogger, runMain, systemClock } from "@fintech/platform";
import { parseLedgerConfig } from "./config.js";
import { build, migrationsDir } from "./server.js";

const logger = createLogger({ name: "ledger", level: process.env.LOG_LEVEL });

await runMain(async () => {
  const config = parseLedgerConfig();
  const { pool, nc, close } = await openServiceInfra({ name: "ledger", config, migrationsDir, logger });

  const ledger = build(config, {
    pool,
    nc,
    logger,
    clock: systemClock,
    authenticator: connectIdentity(config, { logger }).authenticator,
  });
  const where = await ledger.start();
  logger.info({ url: where.url, metrics: where.metricsUrl }, "ledger listening");

  return {
    async stop() {
      await ledger.stop();
      await close();
    },
  };
}, logger);
