// Benchmark: purchases end to end, in both shapes of the platform in one run. Every service (identity, ledger, fx,
// fraud, wallet, analytics and the REST gateway, logging at info) runs on this machine, started by the test kit's
// platform booter on a database, NATS namespace and Redis prefix of its own: first each as its own process
// (production's shape), then all in one process (`./dev start --one-process`). In each, users sign up and top up
// through the gateway; the platform then idles for BENCH_IDLE_SECONDS (5: the CPU each process uses a second with
// nothing to do, and how often its threads are woken for it), then POST /api/v1/transactions (purchases) is driven
// over HTTP/1.1 keep-alive with 1, 4 and BENCH_IN_FLIGHT (64) in flight (BENCH_LOW_SECONDS, 5, after 1 s of warm-up
// for the first two; BENCH_SECONDS, 15, after 3 s for the last). Then, on the same bootstrap, a do-nothing
// PingService (libs/platform's createServer, loaded into the gateway's process, or into the one process) is called
// over HTTP/2 (Connect protocol, binary, as the gateway calls a backend) with BENCH_IN_FLIGHT in flight: the
// purchase enters the platform over HTTP and the closest call that does nothing at all behind the same bootstrap is
// a Ping on its port (the gateway has no do-nothing REST route). Printed per shape: purchases/s with p50 and p99 at
// each level and the CPU of every process but this client per purchase there (after the warm-up), what the answers
// were, Ping calls/s and the ratio purchases/s / Ping calls/s at BENCH_IN_FLIGHT, the CPU each process (Postgres,
// NATS, Redis and this client included) used per purchase at each level and its share of a core during the
// saturated run and how often its threads were woken from sleep per purchase at each level, Postgres commits per
// purchase at each level (the platform's database only) and the WAL records and bytes the whole Postgres server
// wrote per purchase (Postgres counts WAL per server only), the events published and the messages handed to
// consumers per purchase (JetStream's own counts), the receipts the mail server got per purchase and the mails
// still queued, and the outbox rows still unpublished when the run ends; then, after waiting for those mails (up to
// BENCH_DRAIN_SECONDS, 120: a sender that falls behind sends them after the run), the CPU per purchase of every
// process but this client both during the run and until then; then `pgbench -N` tps on the same Postgres, and what
// this machine charges a process woken for a request (wake-cost.ts). The receipts the notifications service sends
// go to an SMTP server in this process (libs/testing's inbox), whose CPU counts as the bench client's.
//
//   ./dev npm run bench:wallet -w @fintech/bench
//   BENCH_USERS (64) signs up that many users; BENCH_MODES (processes,one-process) picks the shapes;
//   BENCH_CPU_PROF=<dir> writes each process's CPU profile there, BENCH_LOG_DIR=<dir> the services' logs;
//   BENCH_TRACE=1 has every service export its spans to this process and prints, for the purchases at 1 in
//   flight, each span of the request path (when it starts, how long it takes, and for a call between services
//   what the hop adds to the server's own time), for all of them and for their slowest 2% (the tail); exporting
//   spans costs, so every figure of such a run is higher.
//   About 4 minutes in all.
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { platformServices } from "@fintech/platform";
import { PingService } from "@fintech/proto/fintech/platform/v1/bench_pb.js";
import type { OtlpReceiver } from "@fintech/testing/otlp-receiver";
import { startOtlpReceiver } from "@fintech/testing/otlp-receiver";
import { freePort } from "@fintech/testing/own-servers";
import type { RunningPlatform } from "@fintech/testing/platform";
import { ONE_PROCESS, startPlatform } from "@fintech/testing/platform";
import type { SmtpInbox } from "@fintech/testing/smtp-inbox";
import { startSmtpInbox } from "@fintech/testing/smtp-inbox";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect as connectNats } from "@nats-io/transport-node";
import pg from "pg";
import { signUpUsers } from "./bench-users.js";
import type { HopRow } from "./hops.js";
import { hopBreakdown } from "./hops.js";
import { httpCaller } from "./http-load.js";
import type { LoadResult } from "./load.js";
import { drive } from "./load.js";
import { runPgbench } from "./pgbench.js";
import { cpuSeconds, cpuSecondsOf, machineCpu, pidsOf, wakeUps } from "./proc-cpu.js";
import { measureWakeCost } from "./wake-cost.js";

type Mode = "processes" | "one-process";

const seconds = Number(process.env.BENCH_SECONDS ?? 15);
const inFlight = Number(process.env.BENCH_IN_FLIGHT ?? 64);
const userCount = Number(process.env.BENCH_USERS ?? 64);
const lowSeconds = Number(process.env.BENCH_LOW_SECONDS ?? 5);
const drainSeconds = Number(process.env.BENCH_DRAIN_SECONDS ?? 120);
const idleSeconds = Number(process.env.BENCH_IDLE_SECONDS ?? 5);
const modes = (process.env.BENCH_MODES ?? "processes,one-process")
  .split(",")
  .map((m) => m.trim())
  .filter((m): m is Mode => m === "processes" || m === "one-process");
const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const natsUrl = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
/** BENCH_TRACE=1: every service exports its spans to this process, which prints where a purchase's time goes. */
const traced = process.env.BENCH_TRACE === "1";
/** The share of the traced purchases whose request path is also shown alone: the tail (p99 and above). */
const SLOWEST = 0.02;
const pingPreload = fileURLToPath(new URL("./ping-preload.ts", import.meta.url));
/** The services that own a schema (and an outbox), each in the schema named after it. */
const SCHEMAS = platformServices.filter((s) => s.kind === "grpc").map((s) => s.name);

interface ModeResult {
  mode: Mode;
  /**
   * Each level's run, with the CPU of every process but this client per purchase after its warm-up (ms), and
   * the CPU seconds each process (or server, this client included) used then.
   */
  levels: Array<
    LoadResult & {
      inFlight: number;
      cpuMsPerPurchase: number;
      cpu: Array<{ name: string; used: number }>;
      /** How often each process's (or server's) threads were woken from sleep after the warm-up. */
      woken: Map<string, number>;
      /** Commits of the platform's database per purchase after the warm-up. */
      commitsPerPurchase: number;
    }
  >;
  saturated: LoadResult;
  ping: LoadResult;
  outcomes: Map<string, number>;
  /** CPU seconds per process (or server) during the saturated run. */
  cpu: Array<{ name: string; used: number }>;
  machineBusy: number;
  /** The WAL the whole Postgres server wrote during the saturated run, per purchase. */
  walPerPurchase: { records: number; bytes: number };
  /** Receipts the mail server received per purchase (saturated run), and mails still queued when it ends. */
  mail: { perPurchase: number; queued: number };
  /**
   * CPU seconds per process from the saturated run's start until the mails it left queued were sent (or
   * BENCH_DRAIN_SECONDS passed), how long that took after the run, and the mails still queued then.
   */
  drained: { cpu: Array<{ name: string; used: number }>; seconds: number; queued: number };
  /** Events the services published, and messages their consumers were handed, per purchase (saturated run). */
  eventsPerPurchase: { published: number; delivered: number };
  outboxBacklog: number;
  /**
   * The platform with nothing to do, for idleSeconds after its users signed up: CPU seconds and wake-ups of its
   * threads per process (or server).
   */
  idle: Array<{ name: string; cpu: number; wakeUps: number }>;
  /** With BENCH_TRACE=1: the request path of the purchases at 1 in flight, span by span, and of their slowest. */
  hops?: Array<{ purchases: number; rows: HopRow[] }>;
}

async function runMode(mode: Mode): Promise<ModeResult> {
  // Read by ping-preload.ts in the process it is loaded into (a child inherits this process's environment).
  process.env.BENCH_PING_PORT = String(await freePort());
  const cpuProf = process.env.BENCH_CPU_PROF;
  const logDir = process.env.BENCH_LOG_DIR;
  const started = performance.now();
  // Receipts go to a mail server that takes them (this process), as in an installation whose mail works.
  const mailSink = await startSmtpInbox();
  // Spans in batches every 200 ms, none dropped: a purchase's spans arrive together, soon after it.
  const receiver = traced ? await startOtlpReceiver() : undefined;
  const tracing =
    receiver === undefined
      ? {}
      : {
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
          OTEL_BSP_SCHEDULE_DELAY: "200",
          OTEL_BSP_MAX_QUEUE_SIZE: "100000",
        };
  const platform = await startPlatform({
    databaseUrl,
    natsUrl,
    redisUrl,
    isolate: true,
    mode,
    env: {
      LOG_LEVEL: "info",
      SMTP_URL: mailSink.url,
      // Checked on every request, never refusing: the limiter's cost is measured, not its refusals.
      RATE_LIMIT_RPS: "1000000",
      RATE_LIMIT_BURST: "1000000",
      ...tracing,
    },
    output: logDir === undefined ? "discard" : { dir: logDir },
    nodeArgs: (name) => [
      ...(cpuProf === undefined
        ? []
        : ["--cpu-prof", `--cpu-prof-dir=${cpuProf}`, `--cpu-prof-name=${mode}-${name}.cpuprofile`]),
      ...(name === "gateway" || name === ONE_PROCESS ? ["--import", "tsx", "--import", pingPreload] : []),
    ],
  });
  console.log(`[${mode}] platform up in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const db = new pg.Client({ connectionString: platform.databaseUrl });
  await db.connect();
  try {
    return await measure(mode, platform, db, mailSink, receiver);
  } finally {
    await db.end();
    await platform.stop();
    await mailSink.close();
    await receiver?.close();
  }
}

/** CPU seconds of every process but this client: the platform's, Postgres', NATS' and Redis'. */
function platformCpu(cpu: Array<{ name: string; used: number }>): number {
  return cpu.reduce((sum, { name, used }) => (name === "bench client" ? sum : sum + used), 0);
}

/** Messages in the platform's streams so far, and messages handed to their consumers (redeliveries included). */
async function eventCounts(platform: RunningPlatform): Promise<{ published: number; delivered: number }> {
  const nc = await connectNats({ servers: natsUrl, name: "bench event counts" });
  try {
    const jsm = await jetstreamManager(nc);
    const prefix = `${platform.namespace?.toUpperCase() ?? ""}_`;
    let published = 0;
    let delivered = 0;
    for await (const stream of jsm.streams.list()) {
      if (!stream.config.name.startsWith(prefix)) continue;
      published += stream.state.last_seq;
      for await (const consumer of jsm.consumers.list(stream.config.name))
        delivered += consumer.delivered.consumer_seq;
    }
    return { published, delivered };
  } finally {
    await nc.close();
  }
}

async function measure(
  mode: Mode,
  platform: RunningPlatform,
  db: pg.Client,
  mailSink: SmtpInbox,
  receiver: OtlpReceiver | undefined,
): Promise<ModeResult> {
  const http = httpCaller(platform.gatewayUrl, inFlight + 8);
  const json = { "content-type": "application/json" };
  const setupStarted = performance.now();
  const users = await signUpUsers(http, userCount, "bench");
  console.log(
    `[${mode}] ${users.length} users signed up and funded in ${((performance.now() - setupStarted) / 1000).toFixed(1)} s`,
  );

  const merchants = ["Kedai Kopi", "Grab", "Tesco", "Shopee", "Petronas"];
  const categories = ["food_beverage", "transport", "groceries", "shopping", "fuel"];
  const outcomes = new Map<string, number>();
  const count = (k: string) => outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
  let measuring = false;
  // One row per process: every service in processes mode, the one process otherwise.
  const processes = new Map<number, string>();
  for (const name of platform.services) {
    const pid = platform.pid(name);
    if (pid !== undefined) processes.set(pid, processes.has(pid) ? "one process (every service)" : name);
  }
  const sample = () => {
    const out = new Map<string, number>();
    for (const [pid, name] of processes) out.set(name, cpuSeconds(pid));
    out.set("bench client", process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6);
    for (const comm of ["postgres", "nats-server", "redis-server"]) out.set(comm, cpuSecondsOf(comm));
    return out;
  };
  const mailQueue = async () => {
    const { rows } = await db.query<{ n: string }>(
      "SELECT count(*)::text AS n FROM notifications.mail_queue WHERE status = 'pending'",
    );
    return Number(rows[0]?.n ?? 0);
  };
  // Commits of the platform's database; WAL of the whole server (Postgres counts it per server only).
  const postgresCounters = async () => {
    const { rows } = await db.query<{ commits: string; records: string; bytes: string }>(
      `SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database())::text AS commits,
              wal_records::text AS records, wal_bytes::text AS bytes FROM pg_stat_wal`,
    );
    const r = rows[0];
    return {
      commits: Number(r?.commits ?? 0),
      records: Number(r?.records ?? 0),
      bytes: Number(r?.bytes ?? 0),
    };
  };
  const purchase = async (i: number, record: boolean) => {
    const u = users[i % users.length];
    if (u === undefined) return false;
    const res = await http.call(
      "POST",
      "/api/v1/transactions",
      { ...json, authorization: `Bearer ${u.token}` },
      JSON.stringify({
        amount: `${1 + (i % 50)}.${String(i % 100).padStart(2, "0")}`,
        currency: "MYR",
        merchant_name: merchants[i % merchants.length],
        merchant_category: categories[i % categories.length],
        transaction_type: "purchase",
        wallet_id: u.wallet,
      }),
    );
    if (record && measuring) {
      const status =
        res.status === 201 ? (JSON.parse(res.body) as { status: string }).status : String(res.status);
      count(status);
    }
    return res.status === 201;
  };
  const usedSince = (before: Map<string, number>, after: Map<string, number>) =>
    [...after].map(([name, v]) => ({ name, used: v - (before.get(name) ?? 0) }));
  // How often each process's threads have been woken from sleep, by process id: a Postgres backend that ends
  // meanwhile takes its count with it, one that starts brings all of its own (made since the snapshot).
  const wakeUpsNow = () => {
    const out = new Map<number, { name: string; n: number }>();
    for (const [pid, name] of processes) out.set(pid, { name, n: wakeUps(pid) });
    for (const comm of ["postgres", "nats-server", "redis-server"]) {
      for (const pid of pidsOf(comm)) out.set(pid, { name: comm, n: wakeUps(pid) });
    }
    return out;
  };
  const wokenSince = (before: ReturnType<typeof wakeUpsNow>) => {
    const woken = new Map<string, number>();
    for (const [pid, { name, n }] of wakeUpsNow()) {
      woken.set(name, (woken.get(name) ?? 0) + n - (before.get(pid)?.n ?? 0));
    }
    return woken;
  };
  // Idle first: what the platform costs with nothing to do (its timers, polls and metrics), and how often it is
  // woken for that, once what the sign-ups set off has settled.
  await sleep(2000);
  const [idleCpu, idleWakeUps] = [sample(), wakeUpsNow()];
  await sleep(idleSeconds * 1000);
  const idleWoken = wokenSince(idleWakeUps);
  const idle = usedSince(idleCpu, sample())
    .filter(({ name }) => name !== "bench client")
    .map(({ name, used }) => ({ name, cpu: used, wakeUps: idleWoken.get(name) ?? 0 }));
  // Below saturation first, on a quiet platform: the latency of one purchase through every service, and what
  // a purchase costs when the processes wait between purchases instead of always having the next at hand.
  const levels: ModeResult["levels"] = [];
  let hops: ModeResult["hops"];
  for (const level of [1, 4]) {
    const spansBefore = receiver?.spans.length ?? 0;
    const warmupMs = 1000;
    let cpuAtStart = new Map<string, number>();
    let wakeUpsAtStart = wakeUpsNow();
    let commitsAtStart = 0;
    const warmedUp = setTimeout(() => {
      cpuAtStart = sample();
      wakeUpsAtStart = wakeUpsNow();
      void postgresCounters().then((c) => {
        commitsAtStart = c.commits;
      });
    }, warmupMs);
    const run = await drive(`purchases, ${level} in flight`, (i) => purchase(i + level * 1_000_000, false), {
      inFlight: level,
      durationMs: lowSeconds * 1000,
      warmupMs,
    });
    clearTimeout(warmedUp);
    const cpu = usedSince(cpuAtStart, sample());
    const woken = wokenSince(wakeUpsAtStart);
    const { commits } = await postgresCounters();
    levels.push({
      ...run,
      inFlight: level,
      cpuMsPerPurchase: (platformCpu(cpu) * 1000) / Math.max(1, run.requests),
      cpu,
      woken,
      commitsPerPurchase: (commits - commitsAtStart) / Math.max(1, run.requests),
    });
    if (receiver !== undefined && level === 1) {
      // The last purchases' spans are exported within the 200 ms batch delay.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const spans = receiver.spans.slice(spansBefore);
      hops = [1, SLOWEST].map((share) => hopBreakdown(spans, "POST /api/v1/transactions", share));
    }
  }
  let cpuBefore = new Map<string, number>();
  let wakeUpsBefore = wakeUpsNow();
  let machineBefore = machineCpu();
  let postgresBefore = { commits: 0, records: 0, bytes: 0 };
  let eventsBefore = { published: 0, delivered: 0 };
  let mailsBefore = 0;
  setTimeout(() => {
    measuring = true;
    mailsBefore = mailSink.mails.length;
    cpuBefore = sample();
    wakeUpsBefore = wakeUpsNow();
    machineBefore = machineCpu();
    void postgresCounters().then((c) => {
      postgresBefore = c;
    });
    void eventCounts(platform).then((n) => {
      eventsBefore = n;
    });
  }, 3000);
  const saturated = await drive(`purchases, ${inFlight} in flight`, (i) => purchase(i, true), {
    inFlight,
    durationMs: seconds * 1000,
    warmupMs: 3000,
  });
  const cpuAfter = sample();
  const wokenAtSaturation = wokenSince(wakeUpsBefore);
  const machineAfter = machineCpu();
  const postgresAfter = await postgresCounters();
  const eventsAfter = await eventCounts(platform);
  const mailsDuring = mailSink.mails.length - mailsBefore;
  const mailsQueued = await mailQueue();
  let outboxBacklog = 0;
  for (const schema of SCHEMAS) {
    const { rows } = await db.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM ${schema}.outbox WHERE published_at IS NULL`,
    );
    outboxBacklog += Number(rows[0]?.n ?? 0);
  }
  http.agent.destroy();
  // The receipts still queued are the load's work too (a sender that falls behind sends them after the window):
  // wait for them, before the Ping run, and count every process's CPU until then as well.
  const drainStarted = performance.now();
  let queuedAfterDrain = mailsQueued;
  while (queuedAfterDrain > 0 && performance.now() - drainStarted < drainSeconds * 1000) {
    await sleep(250);
    queuedAfterDrain = await mailQueue();
  }
  const cpuDrained = sample();
  const drainedSeconds = (performance.now() - drainStarted) / 1000;

  const pingPort = Number(process.env.BENCH_PING_PORT);
  const transport = createConnectTransport({
    baseUrl: `http://127.0.0.1:${pingPort}`,
    httpVersion: "2",
    useBinaryFormat: true,
  });
  const pinger = createClient(PingService, transport);
  const ping = await drive(
    `Ping over HTTP/2, ${inFlight} in flight`,
    async () => (await pinger.ping({ payload: "x" })).payload === "x",
    { inFlight, durationMs: lowSeconds * 1000, warmupMs: 1000 },
  );

  const elapsed = machineAfter.total - machineBefore.total;
  const perPurchase = (n: number) => n / Math.max(1, saturated.requests);
  const cpu = usedSince(cpuBefore, cpuAfter).sort((a, b) => b.used - a.used);
  return {
    mode,
    levels: [
      ...levels,
      {
        ...saturated,
        inFlight,
        cpuMsPerPurchase: perPurchase(platformCpu(cpu) * 1000),
        cpu,
        woken: wokenAtSaturation,
        commitsPerPurchase: perPurchase(postgresAfter.commits - postgresBefore.commits),
      },
    ],
    saturated,
    ping,
    outcomes,
    cpu,
    machineBusy: (machineAfter.busy - machineBefore.busy) / elapsed,
    walPerPurchase: {
      records: perPurchase(postgresAfter.records - postgresBefore.records),
      bytes: perPurchase(postgresAfter.bytes - postgresBefore.bytes),
    },
    eventsPerPurchase: {
      published: perPurchase(eventsAfter.published - eventsBefore.published),
      delivered: perPurchase(eventsAfter.delivered - eventsBefore.delivered),
    },
    outboxBacklog,
    idle,
    mail: {
      perPurchase: perPurchase(mailsDuring),
      queued: mailsQueued,
    },
    drained: {
      cpu: usedSince(cpuBefore, cpuDrained),
      seconds: drainedSeconds,
      queued: queuedAfterDrain,
    },
    ...(hops !== undefined && { hops }),
  };
}

const results: ModeResult[] = [];
for (const mode of modes) results.push(await runMode(mode));
const tps = await runPgbench(databaseUrl, inFlight, seconds);
const wake = await measureWakeCost();

const ms = (v: number) => v.toFixed(1);
const report: string[] = [
  "\nwallet benchmark: every service on this machine, logs at info, fraud rules at their defaults",
  ...(traced ? ["traced (BENCH_TRACE=1): every figure includes the cost of exporting every span"] : []),
];
for (const r of results) {
  const shape =
    r.mode === "processes"
      ? "each service its own process (the default, production's shape)"
      : "every service in one process (./dev start --one-process)";
  report.push(`\n== ${r.mode}: ${shape}, ${userCount} users`);
  for (const l of r.levels) {
    report.push(
      `  ${l.name.padEnd(24)} purchases/s ${l.rps.toFixed(0).padStart(5)}   p50 ${ms(l.p50Ms).padStart(6)} ms   p99 ${ms(l.p99Ms).padStart(6)} ms   CPU ${ms(l.cpuMsPerPurchase).padStart(5)} ms/purchase   errors ${l.errors}` +
        (l.firstError === undefined ? "" : ` (first: ${l.firstError})`),
    );
  }
  report.push(
    `  answers at ${inFlight} in flight: ${[...r.outcomes].map(([k, v]) => `${k} ${v}`).join(", ")}`,
  );
  report.push(
    `  ${r.ping.name}: calls/s ${r.ping.rps.toFixed(0)}   p50 ${ms(r.ping.p50Ms)} ms   p99 ${ms(r.ping.p99Ms)} ms   errors ${r.ping.errors}`,
  );
  report.push(
    `  purchases/s / Ping calls/s at ${inFlight} in flight: ${(r.saturated.rps / Math.max(1, r.ping.rps)).toFixed(3)}`,
  );
  report.push(
    `  machine CPU busy ${(r.machineBusy * 100).toFixed(0)}% of all cores; Postgres commits per purchase ${r.levels.map((l) => `${l.commitsPerPurchase.toFixed(1)} at ${l.inFlight}`).join(", ")} in flight; outbox backlog at the end ${r.outboxBacklog} rows`,
  );
  report.push(
    `  WAL per purchase (the whole Postgres server): ${r.walPerPurchase.records.toFixed(0)} records, ${(r.walPerPurchase.bytes / 1024).toFixed(1)} KB`,
  );
  report.push(
    `  events per purchase: ${r.eventsPerPurchase.published.toFixed(1)} published, ${r.eventsPerPurchase.delivered.toFixed(1)} handed to consumers; receipts mailed ${r.mail.perPurchase.toFixed(2)} per purchase, ${r.mail.queued} mails still queued at the end`,
  );
  const idleMs = (cpu: number) => ((cpu * 1000) / idleSeconds).toFixed(0);
  const idleRate = (n: number) => (n / idleSeconds).toFixed(0);
  report.push(
    `  idle for ${idleSeconds} s before the load: ${idleMs(r.idle.reduce((s, p) => s + p.cpu, 0))} ms of CPU a second, its threads woken ${idleRate(r.idle.reduce((s, p) => s + p.wakeUps, 0))} times a second (each process: ms of CPU / wake-ups a second)`,
    `    ${r.idle.map((p) => `${p.name} ${idleMs(p.cpu)} / ${idleRate(p.wakeUps)}`).join(", ")}`,
  );
  // A process woken for each step of a purchase pays more for it than one that always has the next at hand:
  // its CPU per purchase at each level shows where.
  report.push(
    `  where the time goes (per purchase at each level: CPU in ms, then how often the process's threads were woken from sleep; share of one core at ${inFlight} in flight):`,
    `    ${"".padEnd(28)} ${r.levels.map((l) => `at ${l.inFlight}`.padStart(7)).join(" ")}   ${r.levels.map((l) => `at ${l.inFlight}`.padStart(6)).join(" ")}`,
  );
  const msPerPurchase = (used: number) => ((used * 1000) / Math.max(1, r.saturated.requests)).toFixed(2);
  for (const { name, used } of r.cpu) {
    const atLevels = r.levels.map((l) => {
      const u = l.cpu.find((c) => c.name === name)?.used ?? 0;
      return ((u * 1000) / Math.max(1, l.requests)).toFixed(2).padStart(7);
    });
    const wokenAtLevels = r.levels.map((l) => {
      const n = l.woken.get(name);
      return (n === undefined ? "-" : (n / Math.max(1, l.requests)).toFixed(1)).padStart(6);
    });
    report.push(
      `    ${name.padEnd(28)} ${atLevels.join(" ")}   ${wokenAtLevels.join(" ")}  ${((used / seconds) * 100).toFixed(0).padStart(4)}% of a core`,
    );
  }
  report.push(
    `  CPU per purchase, every process but the bench client: ${msPerPurchase(platformCpu(r.cpu))} ms during the run, ${msPerPurchase(platformCpu(r.drained.cpu))} ms until the mails it left queued were sent (${r.drained.seconds.toFixed(1)} s later${r.drained.queued > 0 ? `; ${r.drained.queued} still queued` : ""})`,
  );
  for (const [i, h] of (r.hops ?? []).entries()) {
    const which = i === 0 ? "medians of" : `the slowest ${SLOWEST * 100}%, medians of their`;
    report.push(
      `  a purchase's request path at 1 in flight, span by span (${which} ${h.purchases} traced purchases; ms after the gateway took the request, ms taken, and for a call the hop: its time less the server's):`,
    );
    for (const row of h.rows) {
      report.push(
        `    ${row.span.padEnd(72)} at ${ms(row.atMs).padStart(5)}  took ${ms(row.tookMs).padStart(5)}${row.hopMs === undefined ? "          " : `  hop ${ms(row.hopMs).padStart(4)}`}  in ${row.seen}`,
      );
    }
  }
}
report.push(
  `\npgbench -N (same Postgres, ${inFlight} clients, ${seconds}s): ${tps === undefined ? "n/a" : `${tps.toFixed(0)} tps`}`,
  `a do-nothing HTTP request costs a server process on this machine ${wake.busyUs.toFixed(0)} us of CPU back to back, ${wake.wokenUs.toFixed(0)} us when it is woken for it (${wake.gapMs} ms apart)`,
);
console.log(report.join("\n"));
