import { authEnv } from "@fintech/auth";
import { envBool, envCsv, envInt, envLogLevel, envPort, envUrl, parseConfig } from "@fintech/platform";
import { z } from "zod";

export const ledgerEnv = z.object({
  HOST: z.string().default("0.0.0.0"),
  PORT: envPort(50053),
  METRICS_PORT: envPort(9153),
  /** Serve gRPC reflection on PORT (grpcurl, Postman); off by default: it describes the whole API to anyone who reaches the port. */
  GRPC_REFLECTION: envBool(false),
  LOG_LEVEL: envLogLevel(),
  DATABASE_URL: envUrl("postgres://postgres@127.0.0.1:5432/postgres"),
  DB_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, "expected a lower-case Postgres schema name")
    .default("ledger"),
  DB_POOL_MAX: envInt(10, { min: 2, max: 200 }),
  NATS_URL: envUrl("nats://127.0.0.1:4222"),
  NATS_STREAM_REPLICAS: envInt(1, { min: 1, max: 5 }),
  EVENTS_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9]*$/, "expected lower-case letters and digits")
    .default(""),
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
