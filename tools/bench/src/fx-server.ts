// The server half of the fx benchmark, in its own process so the load generator does not share its
// event loop: the real fx service (Postgres, NATS, outbox relay) and, on the same bootstrap, a
// do-nothing PingService. Prints one JSON line with both ports, then serves until SIGTERM.
import { randomBytes } from "node:crypto";
import { createPool, migrate } from "@fintech/db";
import { ensureStream, eventsMigrationsDir } from "@fintech/events";
import { build, migrationsDir, parseFxConfig } from "@fintech/fx";
import { createLogger, createServer, systemClock } from "@fintech/platform";
import { PingService } from "@fintech/proto/fintech/platform/v1/bench_pb.js";
import { createTestTokens, testUser } from "@fintech/testing/tokens";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";

const suffix = randomBytes(4).toString("hex");
const config = parseFxConfig({
  ...process.env,
  DB_SCHEMA: `bench_fx_${suffix}`,
  EVENTS_NAMESPACE: `bench${suffix}`,
});
// Logging stays on at info, as in production: its cost is part of what is measured.
const logger = createLogger({ name: "bench", level: "info" });

await migrate({
  url: config.DATABASE_URL,
  schema: config.DB_SCHEMA,
  dirs: [eventsMigrationsDir, migrationsDir],
});
const pool = createPool({ url: config.DATABASE_URL, schema: config.DB_SCHEMA, max: config.DB_POOL_MAX });
const nc = await connect({ servers: config.NATS_URL });
await ensureStream(nc, { context: "fx", namespace: config.EVENTS_NAMESPACE });

// Callers are verified as in production (a JWT on every call); the key is the benchmark's own.
const auth = await createTestTokens({ kid: "bench" });
const fx = build(
  { ...config, METRICS_PORT: 0 },
  { pool, nc, logger, authenticator: auth.authenticator, clock: systemClock },
);
await fx.service.seed(config.FX_SEED_RATES);
const fxAt = await fx.start({ port: 0, host: "127.0.0.1" });

const ping = createServer({
  name: "ping",
  logger,
  routes: (router) => router.service(PingService, { ping: (req) => ({ payload: req.payload }) }),
});
const pingAt = await ping.listen({ port: 0, host: "127.0.0.1" });

process.send?.({ fxPort: fxAt.port, pingPort: pingAt.port, token: await auth.token(testUser("bench-user")) });

process.on("SIGTERM", async () => {
  await Promise.all([fx.stop(), ping.close()]);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(`${config.EVENTS_NAMESPACE.toUpperCase()}_FX`);
  await nc.drain();
  await pool.query(`DROP SCHEMA ${config.DB_SCHEMA} CASCADE`);
  await pool.end();
  process.exit(0);
});
