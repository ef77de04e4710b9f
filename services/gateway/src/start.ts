import type { Transport } from "@connectrpc/connect";
import type { InProcessTransport, StartedService } from "@fintech/platform";
import { observeClientCalls, watchRedis } from "@fintech/platform";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import { connectGatewayIdentity } from "./auth.js";
import type { backends } from "./backends.js";
import type { GatewayConfig } from "./config.js";
import { build } from "./server.js";

/** A backend's name (identity, wallet, ...). */
type BackendName = (typeof backends)[number]["name"];

/**
 * Starts the gateway as main.ts runs it: connects Redis (rate limits fail open while it is away), builds it and
 * listens on PORT. Each backend is reached at its URL variable unless `transports` gives it in this process;
 * either way the caller's own credential is forwarded and checked again by the backend.
 */
export async function startGateway(
  config: GatewayConfig,
  opts: { logger: Logger; transports?: Partial<Record<BackendName, InProcessTransport>> },
): Promise<Pick<StartedService, "listening" | "stop">> {
  const { logger } = opts;
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
  const inProcess = opts.transports ?? {};
  const identity = inProcess.identity;
  const { authenticator, credentials, userAccess } = connectGatewayIdentity(config, {
    logger,
    protocol: config.BACKEND_PROTOCOL,
    ...(identity === undefined ? {} : { identity }),
  });
  const transports: Record<string, Transport> = {};
  for (const [name, transport] of Object.entries(inProcess)) {
    // Traced and counted as a backend reached at its URL is (createBackendTransport).
    if (transport !== undefined) transports[name] = transport({ interceptors: [observeClientCalls] });
  }
  const gateway = build(config, {
    redis,
    logger,
    authenticator,
    transports,
    forwarder: credentials,
    userAccess,
  });
  const listening = await gateway.start();
  logger.info(
    {
      url: listening.url,
      docs: `${listening.url}/docs`,
      metrics: `${listening.metricsUrl}/metrics`,
      routes: gateway.routes.length,
    },
    "gateway listening",
  );
  return {
    listening,
    async stop() {
      await gateway.stop();
      redis.disconnect();
    },
  };
}
