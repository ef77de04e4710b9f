import { createLogger, runMain, withTelemetry } from "@fintech/platform";
import { parseWalletConfig } from "./config.js";
import { startWallet } from "./start.js";

const logger = createLogger({ name: "wallet", level: process.env.LOG_LEVEL });

// Spans are exported (from the start) when OTEL_EXPORTER_OTLP_ENDPOINT is set.
await runMain(
  withTelemetry("wallet", logger, () => startWallet(parseWalletConfig(), { logger })),
  logger,
);
