import "./type-parsers.js";

export { type HeldLock, type LockOutcome, withAdvisoryLock } from "./advisory-lock.js";
export { tryAdvisoryXactLock } from "./advisory-xact-lock.js";
export { type Batcher, type BatcherOptions, createBatcher, type ItemFailure, itemFailed } from "./batcher.js";
export { type CreatePoolOptions, createPool } from "./create-pool.js";
export { createExclusiveJob, type ExclusiveJob, type ExclusiveJobOptions } from "./exclusive-job.js";
export { MIGRATIONS_TABLE, type MigrateOptions, MigrationError, migrate } from "./migrate.js";
export { isSerializationFailure, isTransientDbError, isUniqueViolation, sqlState } from "./pg-errors.js";
export { inTimestampRange, MAX_BIGINT } from "./pg-range.js";
export { instrumentPool } from "./pool-metrics.js";
export type { Queryable } from "./queryable.js";
export { assertSchemaName, InvalidSchemaNameError } from "./schema-name.js";
export {
  afterCommit,
  type IsolationLevel,
  type TransactionClosing,
  type TransactionOptions,
  type TransactionWrapper,
  traceTransactions,
  withTransaction,
} from "./with-transaction.js";
