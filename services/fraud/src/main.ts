import { connectIdentity } from "@fintech/auth";
import { openServiceInfra } from "@fintech/events";
import { createLogger, runMain } from "@fintech/platform";
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
  // Fail fast rather than queue: scoring falls back to Postgres when Redis does not answer.
  const redis = new Redis(config.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  // The feature store logs outages once; connection errors are only worth debug lines.
  redis.on("error", (err: unknown) => logger.debug({ err }, "redis connection error"));

  const { authenticator } = connectIdentity(config, { logger });
  const fraud = build(config, {
    pool,
    nc,
    redis,
    logger,
    clock: { now: () => new Date() },
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
