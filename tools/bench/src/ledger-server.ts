// The server half of the ledger benchmark, in its own process so the load generator does not share its event
// loop: the real ledger (Postgres, NATS, outbox relay, service-token auth as in production) on a scratch schema,
// with 10,000 funded accounts and one hot merchant account, and beside it a do-nothing PingService on the same
// bootstrap. Sends the ports, a service token and the account ids to the parent over IPC, then serves until
// SIGTERM, when it drops its schema and stream.
import { randomBytes, randomUUID } from "node:crypto";
import { rememberBearer } from "@fintech/auth";
import { createPool, migrate } from "@fintech/db";
import { ensureStream, eventsMigrationsDir, streamName } from "@fintech/events";
import { build, migrationsDir, parseLedgerConfig } from "@fintech/ledger";
import { createLogger, createServer, systemClock } from "@fintech/platform";
import { PingService } from "@fintech/proto/fintech/platform/v1/bench_pb.js";
import { createTestTokens, testService } from "@fintech/testing/tokens";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";

const ACCOUNTS = Number(process.env.BENCH_ACCOUNTS ?? 10_000);
const suffix = randomBytes(4).toString("hex");
const config = parseLedgerConfig({
  ...process.env,
  DB_SCHEMA: `bench_ledger_${suffix}`,
  EVENTS_NAMESPACE: `bench${suffix}`,
  DB_POOL_MAX: process.env.DB_POOL_MAX ?? "10",
  // A full scan of millions of rows mid-run would measure the check, not the transfers.
  LEDGER_INTEGRITY_INTERVAL_SECONDS: "0",
});
// Logging stays on at info, as in production: its cost is part of what is measured.
const logger = createLogger({ name: "bench", level: "info" });

await migrate({
  url: config.DATABASE_URL,
  schema: config.DB_SCHEMA,
  dirs: [eventsMigrationsDir, migrationsDir],
});
const pool = createPool({ url: config.DATABASE_URL, schema: config.DB_SCHEMA, max: config.DB_POOL_MAX });
// As main.ts connects: without async stack traces on NATS requests (one per published event).
const nc = await connect({ servers: config.NATS_URL, noAsyncTraces: true });
await ensureStream(nc, { context: "ledger", namespace: config.EVENTS_NAMESPACE });

// Production auth (as identityAuthenticator builds it) over a key made here: identity is not part of what is
// measured.
const tokens = await createTestTokens({ kid: "bench" });
const token = await tokens.token(testService("wallet"));

const ledger = build(
  { ...config, METRICS_PORT: 0 },
  {
    pool,
    nc,
    logger,
    clock: systemClock,
    authenticator: rememberBearer(tokens.authenticator),
  },
);

// Setup through the service itself (in process, not over RPC): accounts that cannot go below zero, each funded
// far beyond what the run moves, and one unlimited merchant account every (b) transfer credits.
const accounts: string[] = [];
for (let i = 0; i < ACCOUNTS; i += 500) {
  const chunk = await Promise.all(
    Array.from({ length: Math.min(500, ACCOUNTS - i) }, () =>
      ledger.service.createAccount({
        id: undefined,
        currency: "MYR",
        code: 1,
        ownerRef: "bench",
        debitsMustNotExceedCredits: true,
        creditsMustNotExceedDebits: false,
      }),
    ),
  );
  accounts.push(...chunk.map((c) => c.account.id));
}
const hot = (
  await ledger.service.createAccount({
    id: undefined,
    currency: "MYR",
    code: 2,
    ownerRef: "merchant",
    debitsMustNotExceedCredits: false,
    creditsMustNotExceedDebits: false,
  })
).account.id;
const world = (await ledger.service.systemAccount("settlement", "MYR")).id;
for (let i = 0; i < accounts.length; i += 8190) {
  const outcomes = await ledger.service.createTransfers(
    accounts.slice(i, i + 8190).map((id) => ({
      id: randomUUID(),
      kind: "single" as const,
      linked: false,
      debitAccountId: world,
      creditAccountId: id,
      amount: 100_000_000n,
      currency: "MYR",
      code: 1,
      timeoutSeconds: 0,
      reference: "bench funding",
      description: "",
      userData: {},
    })),
  );
  if (outcomes.some((o) => !o.ok)) throw new Error("funding failed");
}
await ledger.relay.runOnce();

const at = await ledger.start({ port: 0, host: "127.0.0.1" });
// A do-nothing RPC on the same bootstrap: the ceiling the RPC stack alone sets on this machine.
const ping = createServer({
  name: "ping",
  logger,
  routes: (router) => router.service(PingService, { ping: (req) => ({ payload: req.payload }) }),
});
const pingAt = await ping.listen({ port: 0, host: "127.0.0.1" });
process.send?.({ port: at.port, pingPort: pingAt.port, token, accounts, hot });

process.on("message", async (m) => {
  if (m === "stats") {
    // Process CPU and the batcher's histogram, so the parent can report per-run CPU per transfer and batch sizes.
    const { register } = await import("prom-client");
    const histogram = await register.getSingleMetric("ledger_batch_transfers")?.get();
    const batches = (histogram?.values ?? []) as Array<{ value: number; metricName?: string }>;
    const cpu = process.cpuUsage();
    process.send?.({
      cpuMicros: cpu.user + cpu.system,
      batchTransfers: batches.find((v) => v.metricName === "ledger_batch_transfers_sum")?.value ?? 0,
      batches: batches.find((v) => v.metricName === "ledger_batch_transfers_count")?.value ?? 0,
    });
    return;
  }
  if (m !== "integrity") return;
  // The backlog the moment the load stops, then how long the relay takes to publish it (at most a minute).
  const unsent = async () =>
    (await pool.query<{ n: number }>("SELECT count(*)::int4 AS n FROM outbox WHERE published_at IS NULL"))
      .rows[0]?.n ?? 0;
  const backlog = await unsent();
  const since = performance.now();
  let left = backlog;
  while (left > 0 && performance.now() - since < 60_000) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    left = await unsent();
  }
  const drainSeconds = (performance.now() - since) / 1000;
  const report = await ledger.integrity.check();
  process.send?.({ integrity: report.ok, transfers: report.transfersChecked, backlog, left, drainSeconds });
});

process.on("SIGTERM", async () => {
  await Promise.all([ledger.stop(), ping.close()]);
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(streamName("ledger", config.EVENTS_NAMESPACE));
  await nc.drain();
  // Transfers refuse TRUNCATE and DELETE, not DROP: the scratch schema goes as a whole.
  await pool.query(`DROP SCHEMA ${config.DB_SCHEMA} CASCADE`);
  await pool.end();
  process.exit(0);
});
