import { Counter, register } from "prom-client";

/** The fraud service's own Prometheus metrics (prom-client's default registry, like the platform's). */
export interface FraudMetrics {
  /** Scores whose velocity and duplicate features came from Postgres, by `reason`: redis_error or redis_stale. */
  featureFallback: Counter<"reason">;
  /** Failed Redis operations, by `op`: read (scoring) or write (the feature consumer). */
  redisErrors: Counter<"op">;
  /** Scores recorded, by returned `decision` and `mode`. */
  scores: Counter<"decision" | "mode">;
  /** Scores answered whose record could not be written (the database away for minutes). */
  scoresUnrecorded: Counter;
}

let metrics: FraudMetrics | undefined;

function counter<L extends string>(name: string, help: string, labelNames: L[]): Counter<L> {
  // Several services built in one process (tests) share the registry, which refuses a name twice.
  const existing = register.getSingleMetric(name);
  if (existing instanceof Counter) return existing as Counter<L>;
  return new Counter({ name, help, labelNames });
}

/** Created once per process. */
export function fraudMetrics(): FraudMetrics {
  metrics ??= {
    featureFallback: counter(
      "fraud_feature_fallback_total",
      "Scores that read velocity and duplicate features from Postgres because Redis was unavailable or incomplete.",
      ["reason"],
    ),
    redisErrors: counter("fraud_redis_errors_total", "Failed Redis operations of the feature store.", ["op"]),
    scores: counter(
      "fraud_scores_total",
      "Transactions scored, by the decision returned and the rule mode.",
      ["decision", "mode"],
    ),
    scoresUnrecorded: counter(
      "fraud_scores_unrecorded_total",
      "Scores answered whose record and event could not be written.",
      [],
    ),
  };
  return metrics;
}
