// The server half of the analytics benchmark, in its own process so the load generator and the publisher do
// not share its event loop: the real analytics service (consumers, aggregator, queries) over the schema,
// namespace and Redis prefix the parent prepared (env). Sends {port, tokens} over IPC once it serves, then
// serves until SIGTERM.
import { build, parseAnalyticsConfig, staticRates } from "@fintech/analytics";
import { createPool } from "@fintech/db";
import { parseRate } from "@fintech/money";
import { createLogger, systemClock } from "@fintech/platform";
import { createTestTokens, testUser } from "@fintech/testing/tokens";
import { connect } from "@nats-io/transport-node";
import { Redis } from "ioredis";

const config = { ...parseAnalyticsConfig(process.env), METRICS_PORT: 0 };
// Logging stays on at info, as in production: its cost is part of what is measured.
const logger = createLogger({ name: "bench", level: "info" });
const pool = createPool({ url: config.DATABASE_URL, schema: config.DB_SCHEMA, max: config.DB_POOL_MAX });
const nc = await connect({ servers: config.NATS_URL });
const redis = new Redis(config.REDIS_URL);
const auth = await createTestTokens({ kid: "bench" });
const analytics = build(config, {
  pool,
  nc,
  redis,
  logger,
  clock: systemClock,
  rates: staticRates(
    [
      { base: "SGD", quote: "MYR", rate: parseRate("3.50") },
      { base: "USD", quote: "MYR", rate: parseRate("4.70") },
    ],
    "MYR",
  ),
  authenticator: auth.authenticator,
  // The benchmark publishes its rows itself and never creates an import through the API.
  users: { exists: async () => true },
});
const at = await analytics.start({ port: 0, host: "127.0.0.1" });

const users = Number(process.env.BENCH_TOKEN_USERS ?? 0);
const tokens: string[] = [];
for (let i = 0; i < users; i++) tokens.push(await auth.token(testUser(`bench-${i}`)));
process.send?.({ port: at.port, tokens });

process.on("SIGTERM", async () => {
  await analytics.stop();
  await nc.drain();
  await redis.quit();
  await pool.end();
  process.exit(0);
});
