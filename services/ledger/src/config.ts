import { authEnv } from "@fintech/auth";
import { envCsv, envInt, parseConfig, serviceEnv, serviceRegistry } from "@fintech/platform";
import { z } from "zod";

export const ledgerEnv = z.object({
  ...serviceEnv(serviceRegistry.ledger, { minDbPool: 2 }),
  ...authEnv("ledger"),
  /** Service names (from service tokens) allowed to call the ledger; empty: any service. Users never are. */
  LEDGER_CALLERS: envCsv([]),
  /**
   * Database transactions applying transfer batches at once. 1 (the default) is group commit at its purest:
   * everything that arrives while a batch commits goes into the next one. Measured on the 2-core dev machine,
   * more overlapping transactions only made batches smaller.
   */
  LEDGER_BATCH_CONCURRENCY: envInt(1, { min: 1, max: 16 }),
  /** Milliseconds between passes of the sweeper voiding timed-out pending transfers. */
  LEDGER_EXPIRY_INTERVAL_MS: envInt(1_000, { min: 10, max: 3_600_000 }),
  /** Seconds between scheduled integrity checks; 0 turns the schedule off (the RPC still works). */
  LEDGER_INTEGRITY_INTERVAL_SECONDS: envInt(3_600, { min: 0, max: 604_800 }),
});

export type LedgerConfig = z.infer<typeof ledgerEnv>;

/** Reads and validates the ledger's environment; throws one message naming every bad variable. */
export const parseLedgerConfig = (env: NodeJS.ProcessEnv = process.env): LedgerConfig =>
  parseConfig(ledgerEnv, env);
