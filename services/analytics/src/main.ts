import { createLogger, runMain } from "@fintech/platform";
import { parseAnalyticsConfig } from "./config.js";
import { startAnalytics } from "./start.js";

const logger = createLogger({ name: "analytics", level: process.env.LOG_LEVEL });

await runMain(() => startAnalytics(parseAnalyticsConfig(), { logger }), logger);
