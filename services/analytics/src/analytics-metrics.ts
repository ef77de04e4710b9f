import type { Registry } from "prom-client";
import { Counter, register } from "prom-client";

/**
 * The analytics service's own Prometheus metrics. Created once per registry (prom-client refuses to register a
 * name twice) and shared by every instance built in the process.
 */
export interface AnalyticsMetrics {
  /**
   * Times Redis was found to have lost the hot store (a bucket's marker missing or from another generation:
   * restart without persistence, FLUSHALL, failover to an empty replica) and it was rebuilt from Postgres.
   */
  redisDataLoss: Counter;
}

const cache = new WeakMap<Registry, AnalyticsMetrics>();

/** @param registry default prom-client's global registry (the one the metrics port serves). */
export function analyticsMetrics(registry: Registry = register): AnalyticsMetrics {
  const cached = cache.get(registry);
  if (cached !== undefined) return cached;
  const metrics: AnalyticsMetrics = {
    redisDataLoss: new Counter({
      name: "analytics_redis_data_loss_total",
      help: "Times Redis had lost the analytics hot store and it was rebuilt from Postgres.",
      registers: [registry],
    }),
  };
  cache.set(registry, metrics);
  return metrics;
}
