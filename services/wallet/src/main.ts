import { createLogger, runMain } from "@fintech/platform";
import { parseWalletConfig } from "./config.js";
import { startWallet } from "./start.js";

const logger = createLogger({ name: "wallet", level: process.env.LOG_LEVEL });

await runMain(() => startWallet(parseWalletConfig(), { logger }), logger);
