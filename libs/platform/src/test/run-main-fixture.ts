// A process for run-main.test.ts: `node --import tsx run-main-fixture.ts <mode>`.
import { z } from "zod";
import { envPort, parseConfig } from "../config.js";
import { createLogger } from "../logger.js";
import { runMain } from "../run-main.js";

const mode = process.argv[2];
const logger = createLogger({ name: "fixture" });

await runMain(async () => {
  if (mode === "bad-config") {
    parseConfig(z.object({ PORT: envPort() }), { PORT: "abc" });
  }
  if (mode === "crash") {
    throw new Error("cannot reach the database");
  }
  const keepAlive = setInterval(() => undefined, 60_000);
  return {
    stop: async () => {
      logger.info("stopping");
      if (mode === "stuck") {
        await new Promise(() => undefined);
      }
      clearInterval(keepAlive);
    },
  };
}, logger);
// Once runMain has returned its signal handlers are in place: a test that signals on this line is never early.
logger.info("started");
