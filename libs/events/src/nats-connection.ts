import type { NatsConnection } from "@nats-io/transport-node";
import { connect } from "@nats-io/transport-node";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { eventsMetrics } from "./metrics.js";

/** Options for {@link connectNats}. */
export interface ConnectNatsOptions {
  /** NATS URL(s), e.g. `nats://127.0.0.1:4222` or a comma-separated list. */
  servers: string;
  /** Connection name shown by the server (`connz`), and the `connection` label of the metrics. */
  name: string;
  logger: Logger;
  /** Milliseconds between reconnect attempts to one server; default 2000. */
  reconnectTimeWaitMs?: number;
  /**
   * Up to this many milliseconds added at random to each wait, so that every replica of every service does not
   * reconnect in the same instant after a NATS restart; default 1000.
   */
  reconnectJitterMs?: number;
  /** Registry for the connection metrics; default prom-client's global registry. */
  registry?: Registry;
}

/**
 * Connects to NATS for the life of the process: after a disconnect it reconnects without limit (every
 * `reconnectTimeWaitMs` plus up to `reconnectJitterMs`), and publishes made meanwhile are buffered by the client.
 * The connection's life is logged and measured by {@link watchNats}.
 *
 * Defaults: 2000 ms between attempts, up to 1000 ms jitter. Fails when the first connect fails.
 */
export async function connectNats(opts: ConnectNatsOptions): Promise<NatsConnection> {
  const nc = await connect({
    servers: opts.servers.split(",").map((s) => s.trim()),
    name: opts.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: opts.reconnectTimeWaitMs ?? 2000,
    reconnectJitter: opts.reconnectJitterMs ?? 1000,
    // No async stack traces on NATS requests: the outbox relay makes one JetStream request per event, and
    // building two stack traces for each measured as a third of the relay's cost.
    noAsyncTraces: true,
  });
  watchNats(nc, { name: opts.name, logger: opts.logger, registry: opts.registry });
  return nc;
}

/**
 * Logs the connection's status changes as structured lines (`nats disconnected`, `nats reconnecting`,
 * `nats reconnected`, server errors, `nats connection closed`) and keeps `events_nats_connected{connection}`
 * (1 connected, 0 not) and `events_nats_reconnects_total{connection}` up to date, until the connection closes.
 */
export function watchNats(
  nc: NatsConnection,
  opts: { name: string; logger: Logger; registry?: Registry | undefined },
): void {
  const metrics = eventsMetrics(opts.registry);
  const labels = { connection: opts.name };
  const log = opts.logger.child({ component: "nats" });
  metrics.natsConnected.set(labels, nc.isClosed() ? 0 : 1);
  let attempts = 0;
  const watch = async (): Promise<void> => {
    for await (const s of nc.status()) {
      switch (s.type) {
        case "disconnect":
          metrics.natsConnected.set(labels, 0);
          log.warn({ server: s.server }, "nats disconnected");
          break;
        case "reconnecting":
          attempts++;
          // The first attempt, then one line in ten: an outage of minutes must not flood the log.
          if (attempts === 1 || attempts % 10 === 0) log.info({ attempts }, "nats reconnecting");
          break;
        case "reconnect":
          metrics.natsConnected.set(labels, 1);
          metrics.natsReconnects.inc(labels);
          log.info({ server: s.server, attempts }, "nats reconnected");
          attempts = 0;
          break;
        case "error":
          log.warn({ err: s.error }, "nats server error");
          break;
        case "staleConnection":
          log.warn("nats connection stale; reconnecting");
          break;
        case "ldm":
          log.info({ server: s.server }, "nats server entering lame duck mode; will move");
          break;
        case "close":
          metrics.natsConnected.set(labels, 0);
          log.info("nats connection closed");
          break;
      }
    }
  };
  watch().catch((err: unknown) => log.error({ err }, "nats status watch failed"));
}
