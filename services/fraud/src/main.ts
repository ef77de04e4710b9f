import { connectIdentity } from "@fintech/auth";
import { openServiceInfra } from "@fintech/events";
import { createLogger, runMain, systemClock, watchRedis } from "@fintech/platform";
import { Redis } from "ioredis";
import { parseFraudConfig } from "./config.js";
import { build, migrationsDir } from "./server.js";

const logger = createLogger({ name: "fraud", level: process.env.LOG_LEVEL });

await runMain(async () => {
  const config = parseFraudConfig();
  const { pool, nc, close } = await openServiceInfra({
    name: "fraud",
    config,
    migrationsDir,
    logger,
    consumes: ["wallet"],
  });
  // Fail fast rather than queue: scoring falls back to Postgres when Redis does not answer. Connected before the
  // service starts, so its first writes do not fail merely because the connection was still being made.
  const redis = new Redis(config.REDIS_URL, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    lazyConnect: true,
  });
  watchRedis(redis, logger);
  await redis
    .connect()
    .catch((err: unknown) =>
      logger.warn({ err }, "redis unavailable at start-up; scoring falls back to Postgres until it is back"),
    );

  const { authenticator } = connectIdentity(config, {
    logger,
    events: { nc, namespace: config.EVENTS_NAMESPACE },
  });
  const fraud = build(config, {
    pool,
    nc,
    redis,
    logger,
    clock: systemClock,
    authenticator,
  });
  const where = await fraud.start();
  logger.info({ url: where.url, metrics: where.metricsUrl }, "fraud listening");

  return {
    async stop() {
      await fraud.stop();
      redis.disconnect();
      await close();
    },
  };
}, logger);
