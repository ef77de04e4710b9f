// Every service in this one process, each from its own environment, read as JSON from stdin
// ({"identity": {...}, "ledger": {...}, ...}): what the test kit's platform booter and the benchmarks start when
// they want the one-process shape with environments of their own (./dev start --one-process derives them itself).
// Stops every service, gateway first, on SIGTERM or SIGINT.

import { text } from "node:stream/consumers";
import { createLogger, runMain } from "@fintech/platform";
import type { PlatformService } from "./one-process.js";
import { ONE_PROCESS_ORDER, startOneProcess } from "./one-process.js";

const logger = createLogger({ name: "one-process", level: process.env.LOG_LEVEL });

function isEnv(value: unknown): value is NodeJS.ProcessEnv {
  return (
    typeof value === "object" &&
    value !== null &&
    Object.values(value).every((v) => typeof v === "string" || v === undefined)
  );
}

async function readEnvs(): Promise<Record<PlatformService, NodeJS.ProcessEnv>> {
  const input: unknown = JSON.parse(await text(process.stdin));
  if (typeof input !== "object" || input === null) throw new Error("stdin: expected a JSON object");
  const envs: Partial<Record<PlatformService, NodeJS.ProcessEnv>> = {};
  for (const name of ONE_PROCESS_ORDER) {
    const env: unknown = Reflect.get(input, name);
    if (!isEnv(env)) throw new Error(`stdin: no environment of strings for ${name}`);
    envs[name] = env;
  }
  return envs as Record<PlatformService, NodeJS.ProcessEnv>;
}

await runMain(async () => startOneProcess(await readEnvs()), logger);
