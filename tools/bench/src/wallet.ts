// Benchmark: purchases end to end. Every service of the platform runs on this machine as its own process
// (identity, ledger, fx, fraud, wallet, analytics and the REST gateway, each from its main.ts with logging
// at info), users sign up and top up through the gateway, then POST /api/v1/transactions (purchases) is
// driven over HTTP/1.1 keep-alive with BENCH_IN_FLIGHT (64) in flight for BENCH_SECONDS (15) after a
// 3 s warm-up, after BENCH_LOW_IN_FLIGHT (4) for BENCH_LOW_SECONDS (5) below saturation. Printed:
// purchases/s, p50, p99, what the answers were, the CPU each process used per purchase (where the time
// goes), Postgres commits per purchase, and `pgbench -N` tps on the same Postgres in the same run.
//
//   ./dev npm run bench:wallet -w @fintech/bench
//   BENCH_USERS (64) signs up that many users; BENCH_CPU_PROF=<dir> writes each service's CPU profile there,
//   BENCH_LOG_DIR=<dir> each service's log (every RPC with its duration_ms).
//   About 70 s in all.
import pg from "pg";
import { httpCaller } from "./http-load.js";
import { drive } from "./load.js";
import { runPgbench } from "./pgbench.js";

import { cpuSeconds, cpuSecondsOf, machineCpu, SERVICES, startPlatform } from "./wallet-platform.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 15);
const inFlight = Number(process.env.BENCH_IN_FLIGHT ?? 64);
const userCount = Number(process.env.BENCH_USERS ?? 64);
const lowInFlight = Number(process.env.BENCH_LOW_IN_FLIGHT ?? 4);
const lowSeconds = Number(process.env.BENCH_LOW_SECONDS ?? 5);
const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const PASSWORD = "bench-Password-2026";

/** A zone where it is daytime now, so fraud's off-hours rule stays quiet and purchases are approved. */
function daytimeZone(): string {
  const zones = ["Asia/Kuala_Lumpur", "Europe/London", "America/New_York", "Pacific/Honolulu", "Asia/Tokyo"];
  const hour = (tz: string) =>
    Number(
      new Intl.DateTimeFormat("en-GB", { timeZone: tz, hour: "numeric", hourCycle: "h23" }).format(
        new Date(),
      ),
    );
  return zones.find((tz) => hour(tz) >= 8 && hour(tz) <= 20) ?? "UTC";
}

const started = performance.now();
const platform = await startPlatform({
  ...(process.env.BENCH_CPU_PROF ? { cpuProfDir: process.env.BENCH_CPU_PROF } : {}),
  ...(process.env.BENCH_LOG_DIR ? { logDir: process.env.BENCH_LOG_DIR } : {}),
});
console.log(`platform up in ${((performance.now() - started) / 1000).toFixed(1)} s`);

let report: string[] = [];
const db = new pg.Client({ connectionString: databaseUrl });
await db.connect();
try {
  const http = httpCaller(platform.url, inFlight + 8);
  const json = { "content-type": "application/json" };
  const timezone = daytimeZone();
  const users: Array<{ token: string; wallet: string }> = [];
  const setupStarted = performance.now();
  // Sign-ups in small waves: argon2id on a 2-core machine.
  for (let i = 0; i < userCount; i += 8) {
    const wave = await Promise.all(
      Array.from({ length: Math.min(8, userCount - i) }, async (_, k) => {
        const email = `bench-${i + k}-${Date.now()}@example.com`;
        const reg = await http.call(
          "POST",
          "/api/v1/auth/register",
          json,
          JSON.stringify({ email, password: PASSWORD, full_name: "Bench", timezone }),
        );
        if (reg.status !== 201) throw new Error(`register: ${reg.status} ${reg.body}`);
        const login = await http.call(
          "POST",
          "/api/v1/auth/login",
          json,
          JSON.stringify({ email, password: PASSWORD }),
        );
        const token = (JSON.parse(login.body) as { access_token: string }).access_token;
        const auth = { ...json, authorization: `Bearer ${token}` };
        // The default wallet opens when identity.user.registered reaches the wallet (or on first use).
        const wallets = await http.call("GET", "/api/v1/wallets", auth);
        const wallet = (JSON.parse(wallets.body) as { data: Array<{ id: string }> }).data[0]?.id ?? "";
        const top = await http.call(
          "POST",
          `/api/v1/wallets/${wallet}/fund`,
          auth,
          JSON.stringify({ amount: "40000.00", source: "visa" }),
        );
        if (top.status !== 201) throw new Error(`fund: ${top.status} ${top.body}`);
        return { token, wallet };
      }),
    );
    users.push(...wave);
  }
  console.log(
    `${users.length} users signed up and funded in ${((performance.now() - setupStarted) / 1000).toFixed(1)} s`,
  );

  const merchants = ["Kedai Kopi", "Grab", "Tesco", "Shopee", "Petronas"];
  const categories = ["food_beverage", "transport", "groceries", "shopping", "fuel"];
  const outcomes = new Map<string, number>();
  const count = (k: string) => outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
  let measuring = false;
  const cpuBefore = new Map<string, number>();
  let machineBefore = machineCpu();
  const sample = () => {
    const out = new Map<string, number>();
    for (const s of SERVICES) out.set(s, cpuSeconds(platform.pids[s]));
    out.set("bench client", process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6);
    for (const comm of ["postgres", "nats-server", "redis-server"]) out.set(comm, cpuSecondsOf(comm));
    return out;
  };
  const commits = async () => {
    const { rows } = await db.query<{ n: string }>(
      "SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = current_database()",
    );
    return Number(rows[0]?.n ?? 0);
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
  // Below saturation first, on a quiet platform: the latency of one purchase through every service.
  const light = await drive(
    `POST /api/v1/transactions (purchase), ${lowInFlight} in flight`,
    (i) => purchase(i + 1_000_000, false),
    { inFlight: lowInFlight, durationMs: lowSeconds * 1000, warmupMs: 1000 },
  );
  let commitsBefore = 0;
  setTimeout(() => {
    measuring = true;
    for (const [k, v] of sample()) cpuBefore.set(k, v);
    machineBefore = machineCpu();
    void commits().then((n) => {
      commitsBefore = n;
    });
  }, 3000);
  const result = await drive(
    `POST /api/v1/transactions (purchase), ${inFlight} in flight`,
    (i) => purchase(i, true),
    {
      inFlight,
      durationMs: seconds * 1000,
      warmupMs: 3000,
    },
  );
  const cpuAfter = sample();
  const machineAfter = machineCpu();
  const commitsDuring = (await commits()) - commitsBefore;
  http.agent.destroy();
  const purchases = result.requests;
  const elapsed = machineAfter.total - machineBefore.total;
  report = [
    `\nwallet benchmark: every service a child process on this machine (${SERVICES.join(", ")}), logs at info, fraud rules at their defaults`,
    `${result.name}: ${seconds}s after 3s warm-up, ${users.length} users\n`,
    `purchases/s ${result.rps.toFixed(0)}   p50 ${result.p50Ms.toFixed(1)} ms   p99 ${result.p99Ms.toFixed(1)} ms   errors ${result.errors}` +
      (result.firstError ? ` (first: ${result.firstError})` : ""),
    `answers: ${[...outcomes].map(([k, v]) => `${k} ${v}`).join(", ")}`,
    `below saturation, ${lowInFlight} in flight: purchases/s ${light.rps.toFixed(0)}   p50 ${light.p50Ms.toFixed(1)} ms   p99 ${light.p99Ms.toFixed(1)} ms   errors ${light.errors}`,
    `machine CPU busy ${(((machineAfter.busy - machineBefore.busy) / elapsed) * 100).toFixed(0)}% of all cores; ` +
      `Postgres commits ${(commitsDuring / Math.max(1, purchases)).toFixed(1)} per purchase (all services)\n`,
    "where the time goes (CPU per purchase, and share of one core during the run):",
  ];
  const rows = [...cpuAfter]
    .map(([k, v]) => ({ k, used: v - (cpuBefore.get(k) ?? 0) }))
    .sort((a, b) => b.used - a.used);
  for (const { k, used } of rows) {
    report.push(
      `  ${k.padEnd(14)} ${((used * 1000) / Math.max(1, purchases)).toFixed(2).padStart(7)} ms/purchase  ${((used / seconds) * 100).toFixed(0).padStart(4)}% of a core`,
    );
  }
} finally {
  await db.end();
  await platform.stop();
}

const tps = await runPgbench(databaseUrl, inFlight, seconds);
report.push(
  `\npgbench -N (same Postgres, ${inFlight} clients, ${seconds}s): ${tps === undefined ? "n/a" : `${tps.toFixed(0)} tps`}`,
);
console.log(report.join("\n"));
