import type { Registry } from "prom-client";
import { Counter, register } from "prom-client";

/** The wallet's Prometheus metrics, shared by every wallet in the process (prom-client refuses duplicates). */
export interface WalletMetrics {
  /**
   * Transactions that reached an outcome, by `type` and `outcome`: completed, failed (any reason), held (funds
   * held for a fraud decision).
   */
  outcomes: Counter<"type" | "outcome">;
  /** Score calls fraud did not answer in time (the unavailable policy applied). */
  fraudUnavailable: Counter;
  /** Unfinished transactions taken over by the recovery pass. */
  recovered: Counter;
}

const cache = new WeakMap<Registry, WalletMetrics>();

/** @param registry default: prom-client's global registry, which the platform's /metrics serves. */
export function walletMetrics(registry: Registry = register): WalletMetrics {
  const cached = cache.get(registry);
  if (cached) return cached;
  const registers = [registry];
  const metrics: WalletMetrics = {
    outcomes: new Counter({
      name: "wallet_transactions_total",
      help: "Transactions that reached an outcome, by type and outcome (completed, failed, held).",
      labelNames: ["type", "outcome"],
      registers,
    }),
    fraudUnavailable: new Counter({
      name: "wallet_fraud_unavailable_total",
      help: "Score calls fraud did not answer in time.",
      registers,
    }),
    recovered: new Counter({
      name: "wallet_recovered_transactions_total",
      help: "Unfinished transactions taken over by the recovery pass.",
      registers,
    }),
  };
  cache.set(registry, metrics);
  return metrics;
}
