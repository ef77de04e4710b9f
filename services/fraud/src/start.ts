import { connectIdentity } from "@fintech/auth";
import { openServiceInfra } from "@fintech/events";
import type { Clock, InProcessTransport, StartedService } from "@fintech/platform";
import { systemClock, watchRedis } from "@fintech/platform";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import type { FraudConfig } from "./config.js";
import { build, migrationsDir } from "./server.js";

/**
 * Starts fraud as main.ts runs it: migrates its schema, opens its pool, NATS and Redis connections, builds it
 * and listens on PORT. Identity is reached at IDENTITY_URL unless `transports.identity` gives it in this
 * process. The result's `transport` reaches fraud from the same process. Clock default: the system's.
 */
export async function startFraud(
  config: FraudConfig,
  opts: { logger: Logger; clock?: Clock; transports?: { identity?: InProcessTransport } },
): Promise<StartedService> {
  const { logger } = opts;
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

  const identity = opts.transports?.identity;
  const { authenticator } = connectIdentity(config, {
    logger,
    events: { nc, namespace: config.EVENTS_NAMESPACE },
    ...(identity === undefined ? {} : { identity }),
  });
  const fraud = build(config, {
    pool,
    nc,
    redis,
    logger,
    clock: opts.clock ?? systemClock,
    authenticator,
  });
  const listening = await fraud.start();
  logger.info({ url: listening.url, metrics: listening.metricsUrl }, "fraud listening");
  return {
    listening,
    transport: fraud.server.transport,
    async stop() {
      await fraud.stop();
      redis.disconnect();
      await close();
    },
  };
}
