import { createLogger, runMain } from "@fintech/platform";
import { parseFxConfig } from "./config.js";
import { startFx } from "./start.js";

const logger = createLogger({ name: "fx", level: process.env.LOG_LEVEL });

await runMain(() => startFx(parseFxConfig(), { logger }), logger);
