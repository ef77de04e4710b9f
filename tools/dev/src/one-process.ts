// Every service of the platform in this one Node process: each with its own config (parsed from its own
// environment), schema and migrations, pool, NATS connection, outbox relay and consumers, and its own
// interceptors; services call each other through in-process Connect transports (no sockets, same checks),
// and each still listens on its own port for stock tools, health checks and the public edge.

import { parseAnalyticsConfig, startAnalytics } from "@fintech/analytics";
import { parseFraudConfig, startFraud } from "@fintech/fraud";
import { parseFxConfig, startFx } from "@fintech/fx";
import { parseGatewayConfig, startGateway } from "@fintech/gateway";
import { parseIdentityConfig, startIdentity } from "@fintech/identity";
import { parseLedgerConfig, startLedger } from "@fintech/ledger";
import { parseNotificationsConfig, startNotifications } from "@fintech/notifications";
import type { InProcessTransport, ListenResult, ServiceName, StartedService } from "@fintech/platform";
import { createLogger, startTelemetry } from "@fintech/platform";
import { parseWalletConfig, startWallet } from "@fintech/wallet";
import type { Logger } from "pino";
import { pino } from "pino";
import { services } from "./services.js";

/**
 * Start order: each service after the ones it calls, identity first (every other one verifies tokens against
 * its keys and gets its own service token from it), the public edge last. Stopped in the reverse order.
 */
export const ONE_PROCESS_ORDER = [
  "identity",
  "ledger",
  "fx",
  "fraud",
  "wallet",
  "analytics",
  "notifications",
  "gateway",
] as const satisfies readonly ServiceName[];
export type PlatformService = (typeof ONE_PROCESS_ORDER)[number];

type Transports = Partial<Record<PlatformService, InProcessTransport>>;
/** What a start function hands back; the gateway, the public edge, has no in-process transport. */
type Started = Pick<StartedService, "listening" | "stop"> & { transport?: InProcessTransport };
type Starter = (env: NodeJS.ProcessEnv, logger: Logger, t: Transports) => { start(): Promise<Started> };

// Each config is parsed before anything starts, so a bad variable stops start-up with nothing left open. One per
// service of the registry: a new service without its starter does not compile.
const starters: Record<ServiceName, Starter> = {
  identity: (env, logger) => {
    const config = parseIdentityConfig(env);
    return { start: () => startIdentity(config, { logger }) };
  },
  ledger: (env, logger, t) => {
    const config = parseLedgerConfig(env);
    return { start: () => startLedger(config, { logger, transports: pick(t, "identity") }) };
  },
  fx: (env, logger, t) => {
    const config = parseFxConfig(env);
    return { start: () => startFx(config, { logger, transports: pick(t, "identity") }) };
  },
  fraud: (env, logger, t) => {
    const config = parseFraudConfig(env);
    return { start: () => startFraud(config, { logger, transports: pick(t, "identity") }) };
  },
  wallet: (env, logger, t) => {
    const config = parseWalletConfig(env);
    return {
      start: () => startWallet(config, { logger, transports: pick(t, "identity", "ledger", "fx", "fraud") }),
    };
  },
  analytics: (env, logger, t) => {
    const config = parseAnalyticsConfig(env);
    return { start: () => startAnalytics(config, { logger, transports: pick(t, "identity", "fx") }) };
  },
  notifications: (env, logger, t) => {
    const config = parseNotificationsConfig(env);
    return { start: () => startNotifications(config, { logger, transports: pick(t, "identity") }) };
  },
  gateway: (env, logger, t) => {
    const config = parseGatewayConfig(env);
    return {
      start: () =>
        startGateway(config, {
          logger,
          transports: pick(t, "identity", "wallet", "fx", "fraud", "analytics", "notifications"),
        }),
    };
  },
};

// The in-process transports of `names` that have started (a service started without one reaches it by URL).
function pick<K extends PlatformService>(
  t: Transports,
  ...names: K[]
): Partial<Record<K, InProcessTransport>> {
  const out: Partial<Record<K, InProcessTransport>> = {};
  for (const name of names) {
    const transport = t[name];
    if (transport !== undefined) out[name] = transport;
  }
  return out;
}

/** The platform running in this process. */
export interface OneProcessPlatform {
  /** Where each service listens. */
  listening: Record<PlatformService, ListenResult>;
  /** Each backend's in-process transport (the gateway, an HTTP edge, has none), for in-process callers. */
  transports: Partial<Record<PlatformService, InProcessTransport>>;
  /** Stops every service, the gateway first and identity last; calling it again returns the same promise. */
  stop(): Promise<void>;
}

/**
 * Starts every service in this process, in {@link ONE_PROCESS_ORDER}, each from its own environment (`envs`, what
 * `./dev start` would give its process: PORT, METRICS_PORT, DB_SCHEMA, SERVICE_CLIENT_SECRET, ...) and with its own
 * logger (default: a JSON logger at the env's LOG_LEVEL, every service's lines through one stdout stream so that
 * they never interleave mid-line, each written as it is logged, as createLogger's are). A service calls the ones
 * started before it through their in-process transports, with its own service token, checked by the callee's own
 * interceptors as over the network. Should one fail to start, the ones already started are stopped and the error is
 * thrown. Traces are exported as each service's main.ts would (startTelemetry), once for the process, from the
 * OTEL_* variables of `opts.env` (default: this process's), under the service name "one-process".
 */
export async function startOneProcess(
  envs: Readonly<Record<PlatformService, NodeJS.ProcessEnv>>,
  opts: { logger?: (name: PlatformService, env: NodeJS.ProcessEnv) => Logger; env?: NodeJS.ProcessEnv } = {},
): Promise<OneProcessPlatform> {
  // A service in the registry without a starter here, or a starter without its environment, is a mistake.
  const known: readonly string[] = ONE_PROCESS_ORDER;
  const missing = [
    ...services.map((s) => s.name).filter((n) => !known.includes(n)),
    ...ONE_PROCESS_ORDER.filter((n) => envs[n] === undefined).map((n) => `${n} (no environment)`),
  ];
  if (missing.length > 0) throw new Error(`cannot start in one process: ${missing.join(", ")}`);
  const stdout = pino.destination({ fd: 1, sync: true });
  const loggerFor =
    opts.logger ?? ((name, env) => createLogger({ name, level: env.LOG_LEVEL, destination: stdout }));
  const transports: Transports = {};
  const prepared = ONE_PROCESS_ORDER.map((name) => {
    const logger = loggerFor(name, envs[name]);
    return { name, logger, starter: starters[name](envs[name], logger, transports) };
  });
  const telemetry = startTelemetry({
    serviceName: "one-process",
    logger: createLogger({ name: "one-process", level: envs.gateway.LOG_LEVEL, destination: stdout }),
    env: opts.env ?? process.env,
  });
  const started: Array<{ name: PlatformService; stop(): Promise<void> }> = [];
  const listening: Partial<Record<PlatformService, ListenResult>> = {};

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const failures: unknown[] = [];
      for (const s of [...started].reverse()) {
        try {
          await s.stop();
        } catch (err) {
          failures.push(err);
        }
      }
      // After the servers: the last requests' spans go out too.
      await telemetry.shutdown().catch((err: unknown) => failures.push(err));
      if (failures.length > 0) throw new AggregateError(failures, "some services did not stop cleanly");
    })();
    return stopping;
  };

  try {
    for (const { name, starter } of prepared) {
      const running = await starter.start();
      started.push({ name, stop: running.stop });
      listening[name] = running.listening;
      if (running.transport !== undefined) transports[name] = running.transport;
    }
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
  return { listening: listening as Record<PlatformService, ListenResult>, transports, stop };
}
