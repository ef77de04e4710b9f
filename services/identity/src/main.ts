import { createLogger, runMain } from "@fintech/platform";
import { parseIdentityConfig } from "./config.js";
import { startIdentity } from "./start.js";

const logger = createLogger({ name: "identity", level: process.env.LOG_LEVEL });

await runMain(() => startIdentity(parseIdentityConfig(), { logger }), logger);
