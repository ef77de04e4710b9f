// Benchmark: scale-out of one service (BENCH_SCALED, default wallet, the busiest behind a purchase) as replicas,
// each its own process on its own loopback address, under one steady purchase load through the gateway. The
// test kit's platform booter starts every service on a database, NATS namespace and Redis prefix of its own,
// the scaled one as `<name>@1` on 127.0.0.2 with its callers' URL listing 127.0.0.3 as well (down, as a headless
// Service's name lists only ready pods). Users sign up and top up, then BENCH_IN_FLIGHT (64) purchases stay in
// flight, each with an Idempotency-Key of its own, through four phases:
//   1. one replica: purchases/s, p50, p99 over BENCH_SECONDS (15), after 3 s of warm-up;
//   2. a second replica started under load: seconds until it serves, then until its /metrics count a request;
//      then 10 s for it to warm up (a fresh process compiles its TypeScript and warms its JIT);
//   3. two replicas: purchases/s, p50, p99, and each replica's requests from its own rpc_server_requests_total
//      and the CPU it used (the spread, max/min, should stay within 1.2; callers send each request to the replica
//      with the fewest under way, so one that the machine slows down gets fewer);
//   4. the first replica killed (SIGKILL) under load: failed answers (requests in flight on it, or sent before
//      its callers saw it gone), seconds until the load is back to 80% of the one-replica rate, and after the
//      load every acknowledged purchase looked up in the database (lost: should be 0), and each failed request
//      sent again with the same Idempotency-Key.
// Figures are printed, never asserted; on a shared 2-core machine they are noisy, and two replicas cannot double
// what one machine does: the balance is the point.
//
//   ./dev npm run bench:scale -w @fintech/bench
//   BENCH_SCALED=ledger scales another backend; BENCH_USERS (64); BENCH_LOG_DIR=<dir> keeps the services' logs.
import { setTimeout as sleep } from "node:timers/promises";
import { startPlatform } from "@fintech/testing/platform";
import pg from "pg";
import { signUpUsers } from "./bench-users.js";
import { httpCaller } from "./http-load.js";
import { cpuSeconds } from "./proc-cpu.js";
import type { WindowStats } from "./steady-load.js";
import { startSteadyLoad } from "./steady-load.js";

const scaled = process.env.BENCH_SCALED ?? "wallet";
const seconds = Number(process.env.BENCH_SECONDS ?? 15);
const inFlight = Number(process.env.BENCH_IN_FLIGHT ?? 64);
const userCount = Number(process.env.BENCH_USERS ?? 64);
const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const natsUrl = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const logDir = process.env.BENCH_LOG_DIR;
const WARMUP_MS = 3_000;
/** How long a replica added under load warms up (its TypeScript compiled, its JIT warm) before it is measured, ms. */
const ADDED_WARMUP_MS = 10_000;
/** The window the recovery after a kill is read in, ms. */
const STEP_MS = 500;

const started = performance.now();
const platform = await startPlatform({
  databaseUrl,
  natsUrl,
  redisUrl,
  isolate: true,
  replicas: { [scaled]: 1 },
  maxReplicas: { [scaled]: 2 },
  env: {
    LOG_LEVEL: "info",
    // Checked on every request, never refusing: the limiter's cost is measured, not its refusals.
    RATE_LIMIT_RPS: "1000000",
    RATE_LIMIT_BURST: "1000000",
  },
  output: logDir === undefined ? "discard" : { dir: logDir },
});
const report: string[] = [];
const db = new pg.Client({ connectionString: platform.databaseUrl });
try {
  await db.connect();
  console.log(
    `platform up in ${((performance.now() - started) / 1000).toFixed(1)} s; ${scaled} callers are given ${platform.callerUrl(scaled)}`,
  );
  const http = httpCaller(platform.gatewayUrl, inFlight + 8);
  const users = await signUpUsers(http, userCount, "scale");
  console.log(`${users.length} users signed up and funded`);

  const merchants = ["Kedai Kopi", "Grab", "Tesco", "Shopee", "Petronas"];
  const acknowledged = new Map<string, string>();
  const failed = new Map<number, string>();
  const purchase = async (i: number) => {
    const u = users[i % users.length];
    if (u === undefined) return false;
    const res = await http
      .call(
        "POST",
        "/api/v1/transactions",
        {
          "content-type": "application/json",
          authorization: `Bearer ${u.token}`,
          "idempotency-key": `scale-${i}`,
        },
        JSON.stringify({
          amount: `${1 + (i % 50)}.${String(i % 100).padStart(2, "0")}`,
          currency: "MYR",
          merchant_name: merchants[i % merchants.length],
          merchant_category: "shopping",
          transaction_type: "purchase",
          wallet_id: u.wallet,
        }),
      )
      .catch((err: unknown) => ({ status: 0, body: err instanceof Error ? err.message : String(err) }));
    if (res.status !== 201) {
      failed.set(i, `${res.status} ${/"error":"([A-Z_]+)"/.exec(res.body)?.[1] ?? res.body.slice(0, 80)}`);
      return false;
    }
    acknowledged.set(`scale-${i}`, (JSON.parse(res.body) as { transaction_id: string }).transaction_id);
    return true;
  };

  // Each replica's requests served (its own /metrics) and CPU seconds used (/proc).
  const counts = async () =>
    new Map(
      await Promise.all(
        platform.replicas(scaled).map(async (r) => {
          const pid = platform.pid(r);
          const sample = {
            requests: (await platform.requestsServed(r))?.rpcs ?? 0,
            cpu: pid === undefined ? 0 : cpuSeconds(pid),
          };
          return [r, sample] as const;
        }),
      ),
    );
  const shares = (
    before: Map<string, { requests: number; cpu: number }>,
    after: Map<string, { requests: number; cpu: number }>,
  ) => {
    const each = [...after].map(([r, n]) => ({
      replica: r,
      requests: n.requests - (before.get(r)?.requests ?? 0),
      cpu: n.cpu - (before.get(r)?.cpu ?? 0),
    }));
    const all = each.reduce((s, e) => s + e.requests, 0);
    const lines = each.map(
      (e) =>
        `    ${e.replica.padEnd(12)} ${String(e.requests).padStart(7)} requests  ${((100 * e.requests) / Math.max(1, all)).toFixed(1).padStart(5)}%   CPU ${e.cpu.toFixed(1)} s`,
    );
    const values = each.map((e) => e.requests);
    return { lines, spread: Math.max(...values) / Math.max(1, Math.min(...values)) };
  };
  const stats = (name: string, w: WindowStats) =>
    `  ${name.padEnd(34)} purchases/s ${w.rps.toFixed(0).padStart(5)}   p50 ${w.p50Ms.toFixed(1).padStart(6)} ms   p99 ${w.p99Ms.toFixed(1).padStart(6)} ms   failed ${w.failed}`;
  const measureWindow = async () => {
    const before = await counts();
    const from = performance.now();
    await sleep(seconds * 1000);
    const to = performance.now();
    return { window: load.window(from, to), shares: shares(before, await counts()) };
  };

  const load = startSteadyLoad(purchase, inFlight);
  await sleep(WARMUP_MS);
  report.push(
    `\nscale benchmark: ${scaled} as replicas, ${inFlight} purchases in flight through the gateway, ${userCount} users, every other service one process`,
  );

  // 1. One replica.
  const one = await measureWindow();
  report.push(stats(`1 replica of ${scaled}`, one.window));
  report.push(...one.shares.lines);

  // 2. A second replica added under load.
  const addStarted = performance.now();
  const added = await platform.addReplica(scaled);
  const serving = performance.now();
  let firstRequest: number | undefined;
  while (firstRequest === undefined && performance.now() - serving < 60_000) {
    if (((await platform.requestsServed(added))?.rpcs ?? 0) > 0) firstRequest = performance.now();
    else await sleep(100);
  }
  report.push(
    `  ${added} started under load: serving after ${((serving - addStarted) / 1000).toFixed(1)} s, its first request ${
      firstRequest === undefined
        ? "never (60 s)"
        : `${((firstRequest - serving) / 1000).toFixed(1)} s after that`
    }`,
  );
  failed.clear();
  await sleep(ADDED_WARMUP_MS);

  // 3. Two replicas.
  const two = await measureWindow();
  report.push(stats(`2 replicas of ${scaled}`, two.window));
  report.push(...two.shares.lines);
  report.push(`    spread (most / fewest requests): ${two.shares.spread.toFixed(2)} (goal: at most 1.20)`);

  // 4. The first replica killed under load.
  const [victim] = platform.replicas(scaled);
  if (victim === undefined) throw new Error(`no replica of ${scaled}`);
  failed.clear();
  const killedAt = performance.now();
  await platform.kill(victim);
  await sleep(seconds * 1000);
  const after = load.window(killedAt, performance.now());
  const failures = load.completions.filter((c) => c.at >= killedAt && !c.ok);
  const lastFailure = failures.at(-1)?.at;
  let recovered: number | undefined;
  for (let t = killedAt; t + STEP_MS <= performance.now(); t += STEP_MS) {
    if (load.window(t, t + STEP_MS).rps >= 0.8 * one.window.rps) {
      recovered = t + STEP_MS;
      break;
    }
  }
  await load.stop();
  report.push(stats(`${victim} killed, ${seconds} s after`, after));
  report.push(
    `    failed answers after the kill: ${failures.length}${
      lastFailure === undefined ? "" : `, the last ${((lastFailure - killedAt) / 1000).toFixed(1)} s after it`
    } (the balancer keeps as many requests under way on each replica: about ${Math.round(inFlight / 2)} of the ${inFlight} in flight were on it)`,
  );
  for (const [reason, n] of [...failed.values()].reduce(
    (m, r) => m.set(r, (m.get(r) ?? 0) + 1),
    new Map<string, number>(),
  ))
    report.push(`      ${n} x ${reason}`);
  report.push(
    `    load back to 80% of the one-replica rate ${
      recovered === undefined ? "never" : `${((recovered - killedAt) / 1000).toFixed(1)} s after the kill`
    }`,
  );

  // Every acknowledged purchase is in the book; every failed one, sent again with its key, is answered once.
  const ids = [...acknowledged.values()];
  const { rows } = await db.query<{ n: string }>(
    "SELECT count(*)::text AS n FROM wallet.transactions WHERE id = ANY($1::uuid[])",
    [ids],
  );
  const retried = new Map<string, number>();
  const failedDuringKill = [...failed.keys()];
  failed.clear();
  for (const i of failedDuringKill) {
    const ok = await purchase(i);
    const outcome = ok ? "201" : ((failed.get(i) ?? "?").split(" ")[0] ?? "?");
    retried.set(outcome, (retried.get(outcome) ?? 0) + 1);
  }
  report.push(
    `  acknowledged purchases in the whole run: ${ids.length}; missing from wallet.transactions (lost): ${ids.length - Number(rows[0]?.n ?? 0)}`,
  );
  report.push(
    `  the ${failedDuringKill.length} failed during the kill, sent again with the same key: ${
      [...retried].map(([k, v]) => `${k} ${v}`).join(", ") || "none"
    }`,
  );
  http.agent.destroy();
} finally {
  await db.end();
  await platform.stop();
}
report.push(
  "\n(noisy on a shared machine: other work runs beside it; two replicas share the same 2 cores as one)",
);
console.log(report.join("\n"));
