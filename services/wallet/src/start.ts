import { connectIdentity } from "@fintech/auth";
import { openServiceInfra } from "@fintech/events";
import type { Clock, InProcessTransport, StartedService } from "@fintech/platform";
import { observeClientCalls, systemClock } from "@fintech/platform";
import type { Logger } from "pino";
import type { Backends } from "./backends.js";
import { connectBackends } from "./backends.js";
import type { WalletConfig } from "./config.js";
import { build, migrationsDir } from "./server.js";

/**
 * Starts the wallet as main.ts runs it: migrates its schema, opens its pool and NATS connection, builds it and
 * listens on PORT. Each backend (identity, ledger, fx, fraud) is reached at its URL variable unless
 * `transports` gives it in this process; either way every call carries the wallet's service token. The
 * result's `transport` reaches the wallet from the same process. Clock default: the system's.
 */
export async function startWallet(
  config: WalletConfig,
  opts: { logger: Logger; clock?: Clock; transports?: Partial<Record<keyof Backends, InProcessTransport>> },
): Promise<StartedService> {
  const { logger } = opts;
  const transports = opts.transports ?? {};
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
    ...(transports.identity === undefined ? {} : { identity: transports.identity }),
  });
  const backends = connectBackends(
    config,
    credentials === undefined ? [observeClientCalls] : [observeClientCalls, credentials.interceptor],
    transports,
  );
  const wallet = build(config, {
    pool,
    nc,
    logger,
    clock: opts.clock ?? systemClock,
    authenticator,
    backends,
  });
  const listening = await wallet.start();
  logger.info({ url: listening.url, metrics: listening.metricsUrl }, "wallet listening");
  return {
    listening,
    transport: wallet.server.transport,
    async stop() {
      await wallet.stop();
      await close();
    },
  };
}
