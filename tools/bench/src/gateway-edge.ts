// The gateway of the gateway benchmark, in its own process, configured from the environment the parent
// passes (IDENTITY_URL, FX_URL, SERVICE_CLIENT_SECRET, BACKEND_PROTOCOL, rate limits). Sends its URL over IPC.
import { build, createIdentityAuthenticator, parseGatewayConfig } from "@fintech/gateway";
import { createLogger } from "@fintech/platform";
import { Redis } from "ioredis";

const config = { ...parseGatewayConfig(), METRICS_PORT: 0 };
const logger = createLogger({ name: "bench-gateway", level: "info" });
const redis = new Redis(config.REDIS_URL, {
  enableOfflineQueue: false,
  commandTimeout: 250,
  lazyConnect: true,
});
await redis.connect();
const authenticator = createIdentityAuthenticator(config, { logger, protocol: config.BACKEND_PROTOCOL });
const gateway = build(config, { redis, logger, authenticator });
const at = await gateway.start({ port: 0, host: "127.0.0.1" });
process.send?.({ url: at.url });

process.on("SIGTERM", async () => {
  await gateway.stop();
  const keys = await redis.keys(`${config.RATE_LIMIT_PREFIX}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  process.exit(0);
});
