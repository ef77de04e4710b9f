import { connectIdentity } from "@fintech/auth";
import { openServiceInfra } from "@fintech/events";
import { createLogger, propagateTrace, runMain, systemClock } from "@fintech/platform";
import { connectBackends } from "./backends.js";
import { parseWalletConfig } from "./config.js";
import { build, migrationsDir } from "./server.js";

const logger = createLogger({ name: "wallet", level: process.env.LOG_LEVEL });

await runMain(async () => {
  const config = parseWalletConfig();
  const { pool, nc, close } = await openServiceInfra({
    name: "wallet",
    config,
    migrationsDir,
    logger,
    consumes: ["identity", "fraud"],
  });

  const { authenticator, credentials } = connectIdentity(config, {
    logger,
    events: { nc, namespace: config.EVENTS_NAMESPACE },
  });
  const backends = connectBackends(
    config,
    credentials === undefined ? [propagateTrace] : [propagateTrace, credentials.interceptor],
  );
  const wallet = build(config, {
    pool,
    nc,
    logger,
    clock: systemClock,
    authenticator,
    backends,
  });
  const where = await wallet.start();
  logger.info({ url: where.url, metrics: where.metricsUrl }, "wallet listening");

  return {
    async stop() {
      await wallet.stop();
      await close();
    },
  };
}, logger);
