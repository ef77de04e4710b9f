// The backends of the gateway benchmark, in their own process: the real identity and fx services on
// Postgres and NATS (fresh schemas and stream namespace, removed on SIGTERM). Sends their URLs over IPC.
import { randomBytes } from "node:crypto";
import { connectIdentity } from "@fintech/auth";
import { createPool, migrate } from "@fintech/db";
import { ensureStream, eventsMigrationsDir } from "@fintech/events";
import { build as buildFx, migrationsDir as fxMigrations, parseFxConfig } from "@fintech/fx";
import {
  build as buildIdentity,
  migrationsDir as identityMigrations,
  parseIdentityConfig,
} from "@fintech/identity";
import { createLogger, systemClock } from "@fintech/platform";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";

const suffix = randomBytes(4).toString("hex");
const secret = process.env.BENCH_GATEWAY_SECRET ?? "";
const identityConfig = {
  ...parseIdentityConfig({
    ...process.env,
    DB_SCHEMA: `bench_identity_${suffix}`,
    EVENTS_NAMESPACE: `bench${suffix}`,
    SERVICE_CREDENTIALS: `gateway:${secret}`,
  }),
  METRICS_PORT: 0,
};
const fxConfig = {
  ...parseFxConfig({ ...process.env, DB_SCHEMA: `bench_fx_${suffix}`, EVENTS_NAMESPACE: `bench${suffix}` }),
  METRICS_PORT: 0,
};
// Logging stays on at info, as in production.
const logger = createLogger({ name: "bench-backends", level: "info" });
const clock = systemClock;

const nc = await connect({ servers: identityConfig.NATS_URL });
const pools: Array<ReturnType<typeof createPool>> = [];
for (const [config, dirs, context] of [
  [identityConfig, [eventsMigrationsDir, identityMigrations], "identity"],
  [fxConfig, [eventsMigrationsDir, fxMigrations], "fx"],
] as const) {
  await migrate({ url: config.DATABASE_URL, schema: config.DB_SCHEMA, dirs: [...dirs] });
  await ensureStream(nc, { context, namespace: config.EVENTS_NAMESPACE });
  pools.push(createPool({ url: config.DATABASE_URL, schema: config.DB_SCHEMA, max: config.DB_POOL_MAX }));
}
const [identityPool, fxPool] = pools as [ReturnType<typeof createPool>, ReturnType<typeof createPool>];
const identity = buildIdentity(identityConfig, { pool: identityPool, nc, logger, clock });
const identityAt = await identity.start({ port: 0, host: "127.0.0.1" });
// fx verifies the forwarded tokens again against identity's JWKS, as in production.
const { authenticator } = connectIdentity({ ...fxConfig, IDENTITY_URL: identityAt.url }, { logger });
const fx = buildFx(fxConfig, { pool: fxPool, nc, logger, clock, authenticator });
await fx.service.seed(fxConfig.FX_SEED_RATES);
const fxAt = await fx.start({ port: 0, host: "127.0.0.1" });

process.send?.({
  identityUrl: identityAt.url,
  identityPort: identityAt.port,
  fxUrl: fxAt.url,
  fxPort: fxAt.port,
});

process.on("SIGTERM", async () => {
  await Promise.all([identity.stop(), fx.stop()]);
  const jsm = await jetstreamManager(nc);
  for (const ctx of ["IDENTITY", "FX"])
    await jsm.streams.delete(`BENCH${suffix.toUpperCase()}_${ctx}`).catch(() => false);
  await nc.drain();
  await identityPool.query(`DROP SCHEMA ${identityConfig.DB_SCHEMA} CASCADE`);
  await fxPool.query(`DROP SCHEMA ${fxConfig.DB_SCHEMA} CASCADE`);
  await Promise.all(pools.map((p) => p.end()));
  process.exit(0);
});
