import { connectIdentity } from "@fintech/auth";
import { openServiceInfra } from "@fintech/events";
import { createLogger, runMain, systemClock } from "@fintech/platform";
import { parseFxConfig } from "./config.js";
import { build, migrationsDir } from "./server.js";

const logger = createLogger({ name: "fx", level: process.env.LOG_LEVEL });

await runMain(async () => {
  const config = parseFxConfig();
  const { pool, nc, close } = await openServiceInfra({ name: "fx", config, migrationsDir, logger });

  const { authenticator } = connectIdentity(config, {
    logger,
    events: { nc, namespace: config.EVENTS_NAMESPACE },
  });
  const fx = build(config, { pool, nc, logger, authenticator, clock: systemClock });
  const seeded = await fx.service.seed(config.FX_SEED_RATES);
  if (seeded > 0) logger.info({ seeded }, "seed rates set");
  const where = await fx.start();
  logger.info({ url: where.url, metrics: where.metricsUrl }, "fx listening");

  return {
    async stop() {
      await fx.stop();
      await close();
    },
  };
}, logger);
