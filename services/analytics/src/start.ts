import type { Transport } from "@connectrpc/connect";
import { createClient } from "@connectrpc/connect";
import { connectIdentity } from "@fintech/auth";
import { openServiceInfra } from "@fintech/events";
import type { Clock, InProcessTransport, StartedService } from "@fintech/platform";
import { createServiceTransport, observeClientCalls, systemClock, watchRedis } from "@fintech/platform";
import { FxService } from "@fintech/proto/fintech/fx/v1/fx_pb.js";
import { IdentityService } from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import type { AnalyticsConfig } from "./config.js";
import { fxRates, staticRates } from "./rates.js";
import { build, migrationsDir } from "./server.js";
import { identityUserDirectory } from "./user-directory.js";

/**
 * Starts analytics as main.ts runs it: migrates its schema, opens its pool, NATS and Redis connections, builds
 * it and listens on PORT. Identity and fx are reached at IDENTITY_URL and FX_URL unless `transports` gives them
 * in this process; either way every call carries analytics' service token. The result's `transport` reaches
 * analytics from the same process. Clock default: the system's.
 */
export async function startAnalytics(
  config: AnalyticsConfig,
  opts: {
    logger: Logger;
    clock?: Clock;
    transports?: { identity?: InProcessTransport; fx?: InProcessTransport };
  },
): Promise<StartedService> {
  const { logger } = opts;
  const transports = opts.transports ?? {};
  const { pool, nc, close } = await openServiceInfra({ name: "analytics", config, migrationsDir, logger });
  // Connected before anything is built, so no write is queued ahead of the connection.
  const redis = new Redis(config.REDIS_URL, { lazyConnect: true });
  watchRedis(redis, logger);
  await redis.connect();

  const { authenticator, credentials } = connectIdentity(config, {
    logger,
    events: { nc, namespace: config.EVENTS_NAMESPACE },
    ...(transports.identity === undefined ? {} : { identity: transports.identity }),
  });
  // Fx and identity are called as this service, once it has credentials (they may require callers to be known).
  const interceptors =
    credentials === undefined ? [observeClientCalls] : [observeClientCalls, credentials.interceptor];
  const asThisService = (
    name: string,
    inProcess: InProcessTransport | undefined,
    baseUrl: string,
  ): Transport =>
    inProcess === undefined
      ? createServiceTransport(baseUrl, { name, interceptors, resolveIntervalMs: config.UPSTREAM_RESOLVE_MS })
      : inProcess({ interceptors });
  const rates =
    config.ANALYTICS_IMPORT_RATES === undefined
      ? fxRates(
          createClient(FxService, asThisService("fx", transports.fx, config.FX_URL)),
          config.BASE_CURRENCY,
        )
      : staticRates(config.ANALYTICS_IMPORT_RATES, config.BASE_CURRENCY);
  const users = identityUserDirectory(
    createClient(IdentityService, asThisService("identity", transports.identity, config.IDENTITY_URL)),
  );

  const analytics = build(config, {
    pool,
    nc,
    redis,
    logger,
    clock: opts.clock ?? systemClock,
    rates,
    authenticator,
    users,
  });
  const listening = await analytics.start();
  logger.info({ url: listening.url, metrics: listening.metricsUrl }, "analytics listening");
  return {
    listening,
    transport: analytics.server.transport,
    async stop() {
      await analytics.stop();
      await redis.quit();
      await close();
    },
  };
}
