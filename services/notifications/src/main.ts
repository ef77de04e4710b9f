import { createLogger, runMain, withTelemetry } from "@fintech/platform";
import { parseNotificationsConfig } from "./config.js";
import { startNotifications } from "./start.js";

const logger = createLogger({ name: "notifications", level: process.env.LOG_LEVEL });

// Spans are exported (from the start) when OTEL_EXPORTER_OTLP_ENDPOINT is set.
await runMain(
  withTelemetry("notifications", logger, () => startNotifications(parseNotificationsConfig(), { logger })),
  logger,
);
