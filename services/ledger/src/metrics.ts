import type { Registry } from "prom-client";
import { Counter, Histogram, register } from "prom-client";

/** The ledger's Prometheus metrics, shared by every ledger in the process (prom-client refuses duplicates). */
export interface LedgerMetrics {
  /** Transfers answered, by `result`: "created", "replayed" or a refusal reason. */
  transfers: Counter<"result">;
  /** Transfers per database transaction (one coalesced batch). */
  batchSize: Histogram;
  /** Seconds one batch's transaction took, locks and commit included. */
  batchSeconds: Histogram;
  /** Batches whose unlocked read went stale before their write, and ran again under row locks. */
  batchConflicts: Counter;
  /** Pending transfers voided because their timeout passed. */
  expired: Counter;
  /** Integrity checks run, by `result`: "ok", "violated" or "failed" (the check itself could not run). */
  integrityChecks: Counter<"result">;
  /** Integrity violations found, by `kind`. Any increase is a page-someone event. */
  integrityViolations: Counter<"kind">;
}

const cache = new WeakMap<Registry, LedgerMetrics>();

/** @param registry default: prom-client's global registry, which the platform's /metrics serves. */
export function ledgerMetrics(registry: Registry = register): LedgerMetrics {
  const cached = cache.get(registry);
  if (cached) return cached;
  const registers = [registry];
  const metrics: LedgerMetrics = {
    transfers: new Counter({
      name: "ledger_transfers_total",
      help: "Transfers answered, by result: created, replayed or the refusal reason.",
      labelNames: ["result"],
      registers,
    }),
    batchSize: new Histogram({
      name: "ledger_batch_transfers",
      help: "Transfers applied per database transaction.",
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8190],
      registers,
    }),
    batchSeconds: new Histogram({
      name: "ledger_batch_duration_seconds",
      help: "Duration of one batch transaction, locks and commit included.",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    batchConflicts: new Counter({
      name: "ledger_batch_conflicts_total",
      help: "Batches whose accounts changed between their unlocked read and their write, run again under row locks.",
      registers,
    }),
    expired: new Counter({
      name: "ledger_pending_expired_total",
      help: "Pending transfers voided because their timeout passed.",
      registers,
    }),
    integrityChecks: new Counter({
      name: "ledger_integrity_checks_total",
      help: "Integrity checks run, by result: ok, violated or failed.",
      labelNames: ["result"],
      registers,
    }),
    integrityViolations: new Counter({
      name: "ledger_integrity_violations_total",
      help: "Integrity violations found, by kind.",
      labelNames: ["kind"],
      registers,
    }),
  };
  cache.set(registry, metrics);
  return metrics;
}
