// A service's start-up in a process of its own, for open-service.test.ts: openServiceInfra against the test's own
// nats-server, then idle. Prints "ready" once open; logs go to stdout as the service's would.
import { createLogger } from "@fintech/platform";
import { openServiceInfra } from "../open-service.js";

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};
const logger = createLogger({ name: "open-service-child" });
await openServiceInfra({
  name: "osc",
  config: {
    DATABASE_URL: env("DATABASE_URL"),
    DB_SCHEMA: env("DB_SCHEMA"),
    DB_POOL_MAX: 2,
    NATS_URL: env("NATS_URL"),
    EVENTS_NAMESPACE: "",
    NATS_STREAM_REPLICAS: 1,
  },
  migrationsDir: env("MIGRATIONS_DIR"),
  logger,
});
process.stdout.write("ready\n");
setInterval(() => {}, 60_000);
