import { createLogger, runMain, withTelemetry } from "@fintech/platform";
import { parseIdentityConfig } from "./config.js";
import { startIdentity } from "./start.js";

const logger = createLogger({ name: "identity", level: process.env.LOG_LEVEL });

// Spans are exported (from the start) when OTEL_EXPORTER_OTLP_ENDPOINT is set.
await runMain(
  withTelemetry("identity", logger, () => startIdentity(parseIdentityConfig(), { logger })),
  logger,
);
