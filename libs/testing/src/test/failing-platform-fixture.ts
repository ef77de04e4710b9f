// A process for platform-exit.test.ts: `node --conditions=source --import tsx failing-platform-fixture.ts` starts
// an isolated platform in one process, prints what it runs and stores as one JSON line, and once told to on
// stdin fails with an uncaught error without stopping it, as a benchmark with a bug would.
import { once } from "node:events";
import { startPlatform } from "../platform.js";
import { testEnv } from "../test-env.js";

const env = testEnv();
const platform = await startPlatform({
  databaseUrl: env.databaseUrl,
  natsUrl: env.natsUrl,
  redisUrl: env.redisUrl,
  isolate: true,
  mode: "one-process",
  output: "discard",
});
const { databaseUrl, namespace, redisPrefix } = platform;
process.stdout.write(
  `${JSON.stringify({ pid: platform.pid("gateway"), databaseUrl, namespace, redisPrefix })}\n`,
);
await once(process.stdin, "data");
throw new Error("the fixture fails with its platform still running");
