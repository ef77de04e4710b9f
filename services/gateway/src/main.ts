import { createLogger, runMain, watchRedis } from "@fintech/platform";
import { Redis } from "ioredis";
import { createIdentityAuthenticator } from "./auth.js";
import { parseGatewayConfig } from "./config.js";
import { build } from "./server.js";

const logger = createLogger({ name: "gateway", level: process.env.LOG_LEVEL });

await runMain(async () => {
  const config = parseGatewayConfig();
  // No offline queue and a short command timeout: with Redis down, rate limiting fails open at once
  // instead of holding every request until Redis is back.
  const redis = new Redis(config.REDIS_URL, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 250,
    lazyConnect: true,
  });
  watchRedis(redis, logger);
  await redis
    .connect()
    .catch((err: unknown) => logger.warn({ err }, "redis unavailable at start-up; rate limits fail open"));
  const authenticator = createIdentityAuthenticator(config, { logger, protocol: config.BACKEND_PROTOCOL });
  const gateway = build(config, { redis, logger, authenticator });
  const where = await gateway.start();
  logger.info(
    {
      url: where.url,
      docs: `${where.url}/docs`,
      metrics: `${where.metricsUrl}/metrics`,
      routes: gateway.routes.length,
    },
    "gateway listening",
  );
  return {
    async stop() {
      await gateway.stop();
      redis.disconnect();
    },
  };
}, logger);
