import { createLogger, runMain, withTelemetry } from "@fintech/platform";
import { parseFraudConfig } from "./config.js";
import { startFraud } from "./start.js";

const logger = createLogger({ name: "fraud", level: process.env.LOG_LEVEL });

// Spans are exported (from the start) when OTEL_EXPORTER_OTLP_ENDPOINT is set.
await runMain(
  withTelemetry("fraud", logger, () => startFraud(parseFraudConfig(), { logger })),
  logger,
);
