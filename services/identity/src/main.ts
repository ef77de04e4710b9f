import { openServiceInfra } from "@fintech/events";
import { createLogger, runMain, systemClock } from "@fintech/platform";
import { parseIdentityConfig } from "./config.js";
import { build, migrationsDir } from "./server.js";

const logger = createLogger({ name: "identity", level: process.env.LOG_LEVEL });

await runMain(async () => {
  const config = parseIdentityConfig();
  const { pool, nc, close } = await openServiceInfra({ name: "identity", config, migrationsDir, logger });

  const identity = build(config, { pool, nc, logger, clock: systemClock });
  const where = await identity.start();
  logger.info({ url: where.url, metrics: where.metricsUrl }, "identity listening");

  return {
    async stop() {
      await identity.stop();
      await close();
    },
  };
}, logger);
