export type { Outcome } from "./apply-batch.js";
export type { LedgerConfig } from "./config.js";
export { parseLedgerConfig } from "./config.js";
export type { LedgerErrorReason, RefusalReason } from "./errors.js";
export { LEDGER_EVENTS } from "./events.js";
export { expiryTransferId } from "./expiry-sweeper.js";
export type { LedgerService } from "./ledger-service.js";
export type { LedgerDeps } from "./server.js";
export { build, migrationsDir } from "./server.js";
