import { createLogger, runMain } from "@fintech/platform";
import { parseFraudConfig } from "./config.js";
import { startFraud } from "./start.js";

const logger = createLogger({ name: "fraud", level: process.env.LOG_LEVEL });

await runMain(() => startFraud(parseFraudConfig(), { logger }), logger);
