// A process for logger.test.ts: `node --import tsx killed-logger-fixture.ts <lines>` logs that many lines to
// stdout with the default destination, then is killed (SIGKILL: nothing of its own runs after that).
import { createLogger } from "../logger.js";

const logger = createLogger({ name: "fixture" });
const lines = Number(process.argv[2]);
for (let i = 0; i < lines; i++) logger.info({ i }, "line");
process.kill(process.pid, "SIGKILL");
