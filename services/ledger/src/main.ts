import { createLogger, runMain, withTelemetry } from "@fintech/platform";
import { parseLedgerConfig } from "./config.js";
import { startLedger } from "./start.js";

const logger = createLogger({ name: "ledger", level: process.env.LOG_LEVEL });

// Spans are exported (from the start) when OTEL_EXPORTER_OTLP_ENDPOINT is set.
await runMain(
  withTelemetry("ledger", logger, () => startLedger(parseLedgerConfig(), { logger })),
  logger,
);
