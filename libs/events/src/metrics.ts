import type { Registry } from "prom-client";
import { Counter, Gauge, register } from "prom-client";

/**
 * The library's Prometheus metrics. Created once per registry and shared by every relay and consumer in the
 * process (they differ by label), because prom-client refuses to register a metric name twice.
 */
export interface EventsMetrics {
  /** Outbox rows not yet published, by `source`, as seen at the relay's last pass. */
  outboxBacklog: Gauge<"source">;
  /** Seconds since the oldest unpublished outbox row was written (0 with no backlog), at the same moment. */
  outboxBacklogAge: Gauge<"source">;
  /** Outbox rows published and marked, by `source` (JetStream duplicates included: the row was still delivered). */
  outboxPublished: Counter<"source">;
  /** Relay passes that failed (database or NATS unavailable, publish timeout), by `source`. */
  outboxRelayErrors: Counter<"source">;
  /**
   * Consumed messages by `consumer` (durable name), `type` and `outcome`: `handled`, `duplicate` (already in the
   * inbox), `ignored` (no handler for the type), `retried` (handler failed, nak'd), `terminated` (gave up: last
   * delivery failed, or the message is malformed).
   */
  consumed: Counter<"consumer" | "type" | "outcome">;
  /** 1 while the named NATS connection is up, 0 while it is disconnected, reconnecting or closed. */
  natsConnected: Gauge<"connection">;
  /** Successful reconnects of the named NATS connection. */
  natsReconnects: Counter<"connection">;
  /** Messages of a durable consumer's filter not yet delivered to it, by `stream` and `consumer`. */
  consumerPending: Gauge<"stream" | "consumer">;
  /** Messages delivered to a durable consumer and not yet acknowledged (being handled or awaiting a retry). */
  consumerAckPending: Gauge<"stream" | "consumer">;
  /** Seconds since the oldest event the consumer has not yet acknowledged was stored; 0 when it has none. */
  consumerOldestAge: Gauge<"stream" | "consumer">;
  /** Run before a scrape reads the three consumer gauges; set by the consumers' lag watch (consumer-lag.ts). */
  beforeLagScrape: (() => Promise<void>) | undefined;
}

const cache = new WeakMap<Registry, EventsMetrics>();

/** @param registry default prom-client's global registry. */
export function eventsMetrics(registry: Registry = register): EventsMetrics {
  const cached = cache.get(registry);
  if (cached) return cached;
  const metrics: EventsMetrics = {
    outboxBacklog: new Gauge({
      name: "events_outbox_backlog",
      help: "Outbox rows not yet published, at the relay's last look (every pass, and every second while draining).",
      labelNames: ["source"],
      registers: [registry],
    }),
    outboxBacklogAge: new Gauge({
      name: "events_outbox_backlog_age_seconds",
      help: "Age of the oldest unpublished outbox row (0 with no backlog), at the relay's last look.",
      labelNames: ["source"],
      registers: [registry],
    }),
    outboxPublished: new Counter({
      name: "events_outbox_published_total",
      help: "Outbox rows published to JetStream (and deleted from the outbox).",
      labelNames: ["source"],
      registers: [registry],
    }),
    outboxRelayErrors: new Counter({
      name: "events_outbox_relay_errors_total",
      help: "Outbox relay passes that failed and will be retried.",
      labelNames: ["source"],
      registers: [registry],
    }),
    consumed: new Counter({
      name: "events_consumed_total",
      help: "Consumed event messages by outcome (handled, duplicate, ignored, retried, terminated).",
      labelNames: ["consumer", "type", "outcome"],
      registers: [registry],
    }),
    natsConnected: new Gauge({
      name: "events_nats_connected",
      help: "1 while the NATS connection is up, 0 while disconnected or closed.",
      labelNames: ["connection"],
      registers: [registry],
    }),
    natsReconnects: new Counter({
      name: "events_nats_reconnects_total",
      help: "Reconnects of the NATS connection after a disconnect.",
      labelNames: ["connection"],
      registers: [registry],
    }),
    consumerPending: new Gauge({
      name: "events_consumer_pending_messages",
      help: "Messages of a durable consumer not yet delivered to it (JetStream's num_pending), at the last scrape.",
      labelNames: ["stream", "consumer"],
      registers: [registry],
      collect: () => metrics.beforeLagScrape?.(),
    }),
    consumerAckPending: new Gauge({
      name: "events_consumer_ack_pending_messages",
      help: "Messages delivered to a durable consumer and not yet acknowledged (num_ack_pending), at the last scrape.",
      labelNames: ["stream", "consumer"],
      registers: [registry],
      collect: () => metrics.beforeLagScrape?.(),
    }),
    consumerOldestAge: new Gauge({
      name: "events_consumer_oldest_unprocessed_age_seconds",
      help: "Seconds since the oldest event a durable consumer has not acknowledged was stored; 0 when none.",
      labelNames: ["stream", "consumer"],
      registers: [registry],
      collect: () => metrics.beforeLagScrape?.(),
    }),
    beforeLagScrape: undefined,
  };
  cache.set(registry, metrics);
  return metrics;
}
