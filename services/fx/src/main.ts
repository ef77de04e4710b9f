import { createLogger, runMain, withTelemetry } from "@fintech/platform";
import { parseFxConfig } from "./config.js";
import { startFx } from "./start.js";

const logger = createLogger({ name: "fx", level: process.env.LOG_LEVEL });

// Spans are exported (from the start) when OTEL_EXPORTER_OTLP_ENDPOINT is set.
await runMain(
  withTelemetry("fx", logger, () => startFx(parseFxConfig(), { logger })),
  logger,
);
