import { createLogger, runMain } from "@fintech/platform";
import { parseLedgerConfig } from "./config.js";
import { startLedger } from "./start.js";

const logger = createLogger({ name: "ledger", level: process.env.LOG_LEVEL });

await runMain(() => startLedger(parseLedgerConfig(), { logger }), logger);
