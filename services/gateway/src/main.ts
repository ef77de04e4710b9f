import { createLogger, runMain } from "@fintech/platform";
import { parseGatewayConfig } from "./config.js";
import { startGateway } from "./start.js";

const logger = createLogger({ name: "gateway", level: process.env.LOG_LEVEL });

await runMain(() => startGateway(parseGatewayConfig(), { logger }), logger);
