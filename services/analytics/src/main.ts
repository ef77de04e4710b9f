import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { connectIdentity } from "@fintech/auth";
import { openServiceInfra } from "@fintech/events";
import { createLogger, propagateTrace, runMain } from "@fintech/platform";
import { FxService } from "@fintech/proto/fintech/fx/v1/fx_pb.js";
import { Redis } from "ioredis";
import { systemClock } from "./clock.js";
import { parseAnalyticsConfig } from "./config.js";
import { fxRates, staticRates } from "./rates.js";
import { build, migrationsDir } from "./server.js";

const logger = createLogger({ name: "analytics", level: process.env.LOG_LEVEL });

await runMain(async () => {
  const config = parseAnalyticsConfig();
  const { pool, nc, close } = await openServiceInfra({ name: "analytics", config, migrationsDir, logger });
  const redis = new Redis(config.REDIS_URL, { lazyConnect: true });
  await redis.connect();

  const { authenticator, credentials } = connectIdentity(config, { logger });
  const rates =
    config.ANALYTICS_IMPORT_RATES === undefined
      ? fxRates(
          // As this service, once it has credentials (fx may require callers to be known).
          createClient(
            FxService,
            createGrpcTransport({
              baseUrl: config.FX_URL,
              interceptors:
                credentials === undefined ? [propagateTrace] : [propagateTrace, credentials.interceptor],
            }),
          ),
          config.BASE_CURRENCY,
        )
      : staticRates(config.ANALYTICS_IMPORT_RATES, config.BASE_CURRENCY);

  const analytics = build(config, { pool, nc, redis, logger, clock: systemClock, rates, authenticator });
  const where = await analytics.start();
  logger.info({ url: where.url, metrics: where.metricsUrl }, "analytics listening");

  return {
    async stop() {
      await analytics.stop();
      await redis.quit();
      await close();
    },
  };
}, logger);
