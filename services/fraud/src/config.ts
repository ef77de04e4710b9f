import { authEnv } from "@fintech/auth";
import { findCurrency } from "@fintech/money";
import { envCsv, envInt, parseConfig, redisEnv, serviceEnv, serviceRegistry } from "@fintech/platform";
import { z } from "zod";

export const fraudEnv = z.object({
  ...serviceEnv(serviceRegistry.fraud),
  ...redisEnv("fraud:"),
  /** A Redis command not answered within this many milliseconds counts as Redis being down. */
  FRAUD_REDIS_TIMEOUT_MS: envInt(50, { min: 1, max: 10_000 }),
  /**
   * The same for the feature consumer's writes, which no request waits for: one given up sends scores to
   * Postgres for hours (see features.ts), so a busy process must not mistake a late answer for Redis being down.
   */
  FRAUD_REDIS_WRITE_TIMEOUT_MS: envInt(2_000, { min: 1, max: 60_000 }),
  /**
   * How long a user's UNUSUAL_AMOUNT totals (full days before today) are reused in memory, in milliseconds; an
   * event for a past day that arrives late is seen within this time. 0 reads them on every score.
   */
  FRAUD_HISTORY_CACHE_TTL_MS: envInt(60_000, { min: 0, max: 3_600_000 }),
  /** Most users' totals kept in that cache (about 200 bytes each). */
  FRAUD_HISTORY_CACHE_SIZE: envInt(100_000, { min: 1, max: 10_000_000 }),
  /** The currency base amounts are in (the platform's base currency). */
  FRAUD_BASE_CURRENCY: z
    .string()
    .default("MYR")
    .refine((c) => findCurrency(c) !== undefined, "expected an ISO 4217 currency code such as MYR"),
  /** How long a replica scores with the rules it has in memory before it reloads them, in milliseconds. */
  FRAUD_RULES_CACHE_TTL_MS: envInt(1_000, { min: 0, max: 600_000 }),
  /** Service names (from service credentials) allowed to call Score. */
  FRAUD_SCORE_CALLERS: envCsv(["wallet"]),
  /** How long per-user transaction rows are kept for the Postgres fallback, in hours (windows are at most 24 h). */
  FRAUD_TRANSACTION_RETENTION_HOURS: envInt(48, { min: 25, max: 24 * 90 }),
  /** How often old feature rows are pruned, in milliseconds; 0 never. */
  FRAUD_PRUNE_INTERVAL_MS: envInt(600_000, { min: 0, max: 86_400_000 }),
  ...authEnv("fraud"),
});

export type FraudConfig = z.infer<typeof fraudEnv>;

/** Reads and validates the fraud service's environment; throws one message naming every bad variable. */
export const parseFraudConfig = (env: NodeJS.ProcessEnv = process.env): FraudConfig =>
  parseConfig(fraudEnv, env);
