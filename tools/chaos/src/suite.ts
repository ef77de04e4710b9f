// The fault suite: one platform of separate processes on its own NATS, Redis and database, a retrying
// client workload, and one fault at a time. After each fault it waits for the platform to settle and judges
// everything issued so far (see checks.ts).
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createPool } from "@fintech/db";
import type { OwnRedis, OwnServer } from "@fintech/testing/own-servers";
import { freePort, startOwnNats, startOwnRedis } from "@fintech/testing/own-servers";
import type { RunningPlatform } from "@fintech/testing/platform";
import { startPlatform } from "@fintech/testing/platform";
import type { Backlog, Verdict } from "./checks.js";
import { Checker, settled } from "./checks.js";
import { RestClient } from "./client.js";
import { createDatabase, PgProxy } from "./infra.js";
import { Workload } from "./workload.js";

/** What a fault does to the running platform; resolves when it is over (the server back, the process restarted). */
type Fault = (env: FaultEnv) => Promise<void>;

interface FaultEnv {
  platform: RunningPlatform;
  nats: OwnServer;
  redis: OwnRedis;
  proxy: PgProxy;
  database: Awaited<ReturnType<typeof createDatabase>>;
  log: (line: string) => void;
}

export interface Scenario {
  name: string;
  fault: Fault;
  /** The service the fault kills, if it kills one: with replicas, the requests each served before are reported. */
  kills?: string;
}

/** The backends the suite runs as several replicas with --replicas (the gateway and identity stay one). */
export const REPLICATED = ["wallet", "ledger", "fraud", "analytics"];

// A service run as one is killed whole; of several replicas, the first is, while the others keep serving.
const killAndRestart =
  (service: string): Fault =>
  async ({ platform, log }) => {
    const victim = platform.replicas(service)[0] ?? service;
    await platform.kill(victim);
    log(`${victim} killed (SIGKILL)`);
    await sleep(1_000);
    await platform.restart(victim);
    log(`${victim} serving again`);
  };

/** Every scenario, in the order the full suite runs them. */
export const SCENARIOS: Scenario[] = [
  { name: "kill wallet", fault: killAndRestart("wallet"), kills: "wallet" },
  {
    name: "postgres outage 8 s",
    fault: async ({ proxy, database, log }) => {
      // First as an administrator's shutdown reaches a session (57P01), then the network refuses.
      const ended = await database.terminateSessions();
      await proxy.cut();
      log(`postgres: ${ended} sessions terminated, connections refused for 8 s`);
      await sleep(8_000);
      await proxy.restore();
      log("postgres: accepting connections again");
    },
  },
  { name: "kill ledger", fault: killAndRestart("ledger"), kills: "ledger" },
  { name: "kill fraud", fault: killAndRestart("fraud"), kills: "fraud" },
  { name: "kill analytics", fault: killAndRestart("analytics"), kills: "analytics" },
  // Deliveries in flight when it dies are sent again once their lease ends; every event still arrives.
  { name: "kill notifications", fault: killAndRestart("notifications"), kills: "notifications" },
  { name: "kill gateway", fault: killAndRestart("gateway"), kills: "gateway" },
  {
    name: "nats down 40 s",
    fault: async ({ nats, log }) => {
      await nats.stop();
      log("nats stopped for 40 s");
      await sleep(40_000);
      await nats.start();
      log("nats running again");
    },
  },
  {
    name: "redis restarted empty",
    fault: async ({ redis, log }) => {
      await redis.stop();
      log("redis stopped; starting it again without its data");
      await sleep(1_000);
      await redis.start();
    },
  },
];

/** The short version `./dev test` runs: a wallet crash and a database outage. */
export const SHORT = ["kill wallet", "postgres outage 8 s"];

export interface ScenarioResult {
  name: string;
  verdict: Verdict;
  backlog: Backlog;
  /** From the end of the fault until everything settled, ms; undefined when it never did. */
  recoveredMs: number | undefined;
  /** Services that exited by themselves (and were restarted, as an orchestrator would). */
  exited: string[];
  /** Of a service run as replicas that the fault killed: the RPCs and events each handled before the kill. */
  served: Array<{ replica: string; rpcs: number; events: number }>;
  passed: boolean;
}

/** The name the suite itself uses to call the ledger's integrity check as a service. */
const CHAOS_CLIENT = "chaos";

export interface SuiteOptions {
  scenarios: Scenario[];
  users?: number;
  inFlight?: number;
  /** Workload before and after each fault, ms. */
  loadMs?: number;
  /** How long the platform may take to settle after a fault, ms. */
  settleMs?: number;
  /** Replicas per service (e.g. `{ wallet: 2 }`), each its own process on its own address; default one each. */
  replicas?: Readonly<Record<string, number>>;
  log?: (line: string) => void;
}

export async function runSuite(opts: SuiteOptions): Promise<{ results: ScenarioResult[]; logDir: string }> {
  const log = opts.log ?? ((line: string) => console.log(`[chaos] ${line}`));
  const adminUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const logDir = mkdtempSync(join(tmpdir(), "chaos-logs-"));
  const target = new URL(adminUrl);
  const database = await createDatabase(adminUrl);
  const proxy = new PgProxy(await freePort(), { host: target.hostname, port: Number(target.port || 5432) });
  await proxy.restore();
  const nats = await startOwnNats();
  const redis = await startOwnRedis();
  const chaosSecret = randomBytes(24).toString("base64url");
  const db = createPool({
    url: database.url(),
    max: 4,
    applicationName: "chaos-checks",
    // The database outage ends the checker's idle sessions too; the pool opens new ones.
    onError: () => undefined,
  });
  const results: ScenarioResult[] = [];
  let started: RunningPlatform | undefined;
  // A webhook receiver for a platform-wide endpoint taking every completed transaction: it keeps the id of each
  // signed delivery and answers 204 a little later, so that a kill of notifications finds deliveries in flight.
  const webhooksReceived = new Set<string>();
  const receiver = createServer((req, res) => {
    const id = req.headers["webhook-id"];
    const signed = String(req.headers["webhook-signature"] ?? "").startsWith("v1,");
    req.resume();
    req.on("end", () => {
      setTimeout(() => {
        if (typeof id === "string" && signed) webhooksReceived.add(id);
        res.writeHead(204).end();
      }, 20);
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  try {
    log(`logs in ${logDir}; database ${database.name}; ${nats.url}; ${redis.url}`);
    const platform = await startPlatform({
      databaseUrl: database.url({ port: proxy.port }),
      natsUrl: nats.url,
      redisUrl: redis.url,
      output: { dir: logDir },
      clients: { [CHAOS_CLIENT]: chaosSecret },
      ...(opts.replicas === undefined ? {} : { replicas: opts.replicas }),
      env: {
        LOG_LEVEL: process.env.CHAOS_LOG_LEVEL ?? "info",
        // A run must end in minutes: unfinished transactions are taken over after 5 s instead of 30 s, the
        // hot-day mover runs every 5 s, and tokens outlive the run.
        WALLET_RECOVERY_AFTER_MS: "5000",
        WALLET_RECOVERY_INTERVAL_MS: "1000",
        ANALYTICS_MOVER_INTERVAL_MS: "5000",
        ACCESS_TOKEN_TTL_SECONDS: "7200",
        RATE_LIMIT_RPS: "1000",
        RATE_LIMIT_BURST: "2000",
        // The suite's webhook receiver is on loopback over http; a delivery cut off by a kill is sent again
        // after 2 x 2 s + 5 s.
        WEBHOOK_ALLOW_HTTP: "true",
        WEBHOOK_ALLOW_PRIVATE_TARGETS: "true",
        WEBHOOK_TIMEOUT_MS: "2000",
      },
    });
    started = platform;
    log(`platform up at ${platform.gatewayUrl}`);
    const rest = new RestClient(() => platform.gatewayUrl);
    const workload = new Workload(rest, (line) => log(`client: ${line}`));
    const admin = await rest.must("POST", "/api/v1/auth/login", {
      body: { email: platform.admin.email, password: platform.admin.password },
    });
    // Fraud scores every payment but, in shadow mode, holds none for an analyst who is not there: a held
    // payment would wait for a decision no run makes. A fraud outage still holds payments (unscored).
    await rest.must("PUT", "/api/v1/fraud/rules", {
      token: String(admin.access_token),
      body: { mode: "shadow", note: "fault suite" },
    });
    await rest.must("POST", "/api/v1/webhooks", {
      token: String(admin.access_token),
      body: { url: receiverUrl, events: ["transaction.completed"], platform_wide: true },
    });
    await workload.addUsers(opts.users ?? 20);
    const checker = new Checker(
      db,
      rest,
      { nats: nats.url, identity: () => platform.url("identity"), ledger: () => platform.url("ledger") },
      { clientId: CHAOS_CLIENT, clientSecret: chaosSecret },
      webhooksReceived,
    );
    const env: FaultEnv = { platform, nats, redis, proxy, database, log };
    for (const scenario of opts.scenarios) {
      log(`--- ${scenario.name}`);
      workload.scenario = scenario.name;
      const driving = workload.drive(opts.inFlight ?? 6);
      const replicas = scenario.kills === undefined ? [] : platform.replicas(scenario.kills);
      const counted = replicas.length > 1 ? replicas : [];
      const before = await Promise.all(counted.map((r) => platform.requestsServed(r)));
      await sleep(opts.loadMs ?? 5_000);
      const served = await Promise.all(
        counted.map(async (replica, i) => {
          const now = await platform.requestsServed(replica);
          return {
            replica,
            rpcs: (now?.rpcs ?? 0) - (before[i]?.rpcs ?? 0),
            events: (now?.events ?? 0) - (before[i]?.events ?? 0),
          };
        }),
      );
      if (served.length > 0) log(`served before the fault: ${formatServed(served)}`);
      await scenario.fault(env);
      const faultEnded = Date.now();
      await sleep(opts.loadMs ?? 5_000);
      workload.stop();
      await driving;
      // An orchestrator restarts what exits; the suite does the same and reports it.
      const exited = await platform.restartExited();
      let backlog = await checker.backlog(workload.ops, workload.users);
      const deadline = Date.now() + (opts.settleMs ?? 120_000);
      while (!settled(backlog) && Date.now() < deadline) {
        await sleep(1_000);
        exited.push(...(await platform.restartExited()));
        backlog = await checker.backlog(workload.ops, workload.users);
      }
      const recoveredMs = settled(backlog) ? Date.now() - faultEnded : undefined;
      const verdict = await checker.verdict(workload.ops, workload.users, scenario.name);
      const passed =
        recoveredMs !== undefined &&
        verdict.lost.length === 0 &&
        verdict.duplicated.length === 0 &&
        verdict.wrong.length === 0 &&
        verdict.unbalanced.length === 0 &&
        verdict.ledgerOk;
      results.push({ name: scenario.name, verdict, backlog, recoveredMs, exited, served, passed });
      for (const line of [...verdict.lost, ...verdict.duplicated, ...verdict.wrong, ...verdict.unbalanced])
        log(line);
      if (!settled(backlog)) {
        const { analytics, ...rest } = backlog;
        log(`not settled: ${JSON.stringify(rest)}; analytics behind for ${analytics.length} users`);
        for (const line of analytics.slice(0, 3)) log(line);
      }
      log(
        `webhooks: ${webhooksReceived.size} completed transactions delivered so far, ${backlog.webhooks} not`,
      );
      log(`${scenario.name}: ${passed ? "passed" : "FAILED"}`);
    }
  } finally {
    await started?.stop();
    receiver.close();
    await db.end();
    await proxy.restore().catch(() => undefined);
    await nats.cleanup();
    await redis.cleanup();
    await database.cleanup();
  }
  return { results, logDir };
}

function formatServed(served: ScenarioResult["served"]): string {
  return served.map((s) => `${s.replica} ${s.rpcs}/${s.events}`).join(", ");
}

/** The results as a table, then the closing "N passed, N failed" line. */
export function formatResults(results: ScenarioResult[]): string {
  const header = [
    "scenario",
    "acknowledged",
    "no answer",
    "lost",
    "duplicated",
    "wrong answers",
    "balanced",
    "settled in",
    ...(results.some((r) => r.served.length > 0) ? ["RPCs/events per replica before the kill"] : []),
  ];
  const rows = results.map((r) => [
    r.name,
    String(r.verdict.acknowledged),
    String(r.verdict.unknown),
    String(r.verdict.lost.length),
    String(r.verdict.duplicated.length),
    String(r.verdict.wrong.length),
    r.verdict.unbalanced.length === 0 && r.verdict.ledgerOk ? "yes" : "NO",
    r.recoveredMs === undefined ? "never" : `${(r.recoveredMs / 1000).toFixed(1)} s`,
    ...(results.some((each) => each.served.length > 0) ? [formatServed(r.served)] : []),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  const passed = results.filter((r) => r.passed).length;
  return [
    line(header),
    line(widths.map((w) => "-".repeat(w))),
    ...rows.map(line),
    "",
    `${passed} passed, ${results.length - passed} failed`,
  ].join("\n");
}
