import { createLogger, runMain, withTelemetry } from "@fintech/platform";
import { parseGatewayConfig } from "./config.js";
import { startGateway } from "./start.js";

const logger = createLogger({ name: "gateway", level: process.env.LOG_LEVEL });

// Spans are exported (from the start) when OTEL_EXPORTER_OTLP_ENDPOINT is set.
await runMain(
  withTelemetry("gateway", logger, () => startGateway(parseGatewayConfig(), { logger })),
  logger,
);
