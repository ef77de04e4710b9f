import { createLogger, runMain, withTelemetry } from "@fintech/platform";
import { parseAnalyticsConfig } from "./config.js";
import { startAnalytics } from "./start.js";

const logger = createLogger({ name: "analytics", level: process.env.LOG_LEVEL });

// Spans are exported (from the start) when OTEL_EXPORTER_OTLP_ENDPOINT is set.
await runMain(
  withTelemetry("analytics", logger, () => startAnalytics(parseAnalyticsConfig(), { logger })),
  logger,
);
