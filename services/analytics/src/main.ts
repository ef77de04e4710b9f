import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { connectIdentity } from "@fintech/auth";
import { openServiceInfra } from "@fintech/events";
import { createLogger, propagateTrace, runMain, systemClock, watchRedis } from "@fintech/platform";
import { FxService } from "@fintech/proto/fintech/fx/v1/fx_pb.js";
import { IdentityService } from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import { Redis } from "ioredis";
import { parseAnalyticsConfig } from "./config.js";
import { fxRates, staticRates } from "./rates.js";
import { build, migrationsDir } from "./server.js";
import { identityUserDirectory } from "./user-directory.js";

const logger = createLogger({ name: "analytics", level: process.env.LOG_LEVEL });

await runMain(async () => {
  const config = parseAnalyticsConfig();
  const { pool, nc, close } = await openServiceInfra({ name: "analytics", config, migrationsDir, logger });
  // Connected before anything is built, so no write is queued ahead of the connection.
  const redis = new Redis(config.REDIS_URL, { lazyConnect: true });
  watchRedis(redis, logger);
  await redis.connect();

  const { authenticator, credentials } = connectIdentity(config, {
    logger,
    events: { nc, namespace: config.EVENTS_NAMESPACE },
  });
  // Fx and identity are called as this service, once it has credentials (they may require callers to be known).
  const asThisService = (baseUrl: string) =>
    createGrpcTransport({
      baseUrl,
      interceptors: credentials === undefined ? [propagateTrace] : [propagateTrace, credentials.interceptor],
    });
  const rates =
    config.ANALYTICS_IMPORT_RATES === undefined
      ? fxRates(createClient(FxService, asThisService(config.FX_URL)), config.BASE_CURRENCY)
      : staticRates(config.ANALYTICS_IMPORT_RATES, config.BASE_CURRENCY);
  const users = identityUserDirectory(createClient(IdentityService, asThisService(config.IDENTITY_URL)));

  const analytics = build(config, {
    pool,
    nc,
    redis,
    logger,
    clock: systemClock,
    rates,
    authenticator,
    users,
  });
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
