// Benchmark: fraud Score over gRPC with realistic feature state (BENCH_USERS users, default 10,000, seeded through
// the feature consumer's path), beside a do-nothing RPC on the same server bootstrap:
//   1. closed loop, BENCH_IN_FLIGHT (64) calls in flight: the most the server does;
//   2. open loop at the BENCH_RATES offered (500,1000,2000 scores/s): the latency a wallet sees at that traffic.
// The goal is p99 under 5 ms at 2,000 scores/s. Every Score verifies the wallet's Ed25519 service token, reads
// Redis and Postgres, and writes its score row and outbox event in one transaction, as in production.
//
//   ./dev npm run bench:fraud -w @fintech/bench     (BENCH_SECONDS=10 per run by default)
import { fork } from "node:child_process";
import { once } from "node:events";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { create, toBinary } from "@bufbuild/protobuf";
import { PingRequestSchema } from "@fintech/proto/fintech/platform/v1/bench_pb.js";
import type { Figures } from "./fraud-load.js";
import { closedLoop, openLoop } from "./fraud-load.js";
import { SEED_USERS, scoreRequest } from "./fraud-workload.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const inFlight = Number(process.env.BENCH_IN_FLIGHT ?? 64);
// Offered rates of the open-loop runs, the goal's last: how far below it the 5 ms p99 still holds.
const rates = (process.env.BENCH_RATES ?? "500,1000,2000").split(",").map(Number);
const goalRate = rates.at(-1) ?? 2000;
const durationMs = seconds * 1000;
const warmupMs = 2000;

const server = fork(join(dirname(fileURLToPath(import.meta.url)), "fraud-server.ts"), {
  execArgv: ["--conditions=source", "--import", "tsx"],
  stdio: ["ignore", "ignore", "inherit", "ipc"],
});
const ready = await new Promise<{ fraudPort: number; pingPort: number; token: string }>((resolve, reject) => {
  server.once("message", (m) => resolve(m as { fraudPort: number; pingPort: number; token: string }));
  server.once("exit", (code) => reject(new Error(`bench server exited with ${code}`)));
});

const at = (port: number) => `127.0.0.1:${port}`;
const pingBytes = Buffer.from(toBinary(PingRequestSchema, create(PingRequestSchema, { payload: "x" })));
const ping = { path: "/fintech.platform.v1.PingService/Ping", request: () => pingBytes };
const score = {
  path: "/fintech.fraud.v1.FraudService/Score",
  request: scoreRequest,
  metadata: { authorization: `Bearer ${ready.token}` },
};

interface Cpu {
  node: number;
  postgres: Record<string, number>;
}

async function serverCpu(): Promise<Cpu> {
  server.send("cpu");
  return new Promise((resolve) => {
    const onMessage = (m: unknown) => {
      if (typeof m === "object" && m !== null && "cpu" in m) {
        server.off("message", onMessage);
        resolve((m as { cpu: Cpu }).cpu);
      }
    };
    server.on("message", onMessage);
  });
}

type Row = Figures & { nodeUs: number; postgresUs: number };

/** Runs one load and adds the server's CPU per call (warm-up included in both the CPU and the count). */
async function measured(run: () => Promise<Figures>): Promise<Row> {
  const before = await serverCpu();
  const started = performance.now();
  const r = await run();
  const after = await serverCpu();
  // Calls over the whole run, warm-up included, estimated from the measured rate.
  const calls = r.rps * ((performance.now() - started) / 1000);
  return {
    ...r,
    nodeUs: ((after.node - before.node) / calls) * 1e6,
    // Backends that started during the run count whole; one that ended loses what it used after `before`.
    postgresUs:
      (Object.entries(after.postgres).reduce((sum, [pid, s]) => sum + s - (before.postgres[pid] ?? 0), 0) /
        calls) *
      1e6,
  };
}

const results: Row[] = [];
try {
  const closed = { inFlight, durationMs, warmupMs };
  const open = (rate: number) => ({ rate, durationMs, warmupMs, maxInFlight: 1000 });
  results.push(await measured(() => closedLoop("Ping (do-nothing)", at(ready.pingPort), ping, closed)));
  results.push(
    await measured(() => closedLoop(`Score, ${inFlight} in flight`, at(ready.fraudPort), score, closed)),
  );
  results.push(
    await measured(() => openLoop(`Ping at ${goalRate}/s`, at(ready.pingPort), ping, open(goalRate))),
  );
  for (const rate of rates) {
    results.push(
      await measured(() => openLoop(`Score at ${rate}/s`, at(ready.fraudPort), score, open(rate))),
    );
  }
} finally {
  // The server drops its schema, streams and keys on SIGTERM; wait for it so nothing is left behind.
  const exited = once(server, "exit");
  server.kill("SIGTERM");
  await exited;
}

const base = results[0]?.rps ?? 1;
console.log(
  `\nfraud benchmark: grpc-js client, ${SEED_USERS} users with seeded features, ${seconds}s per run after 2s warm-up\n`,
);
console.log(
  "run                       rps   p50 ms   p99 ms p99.9 ms   max ms errors in flight  vs Ping  node us/call  pg us/call",
);
for (const r of results) {
  const cells = [
    r.name.padEnd(22),
    r.rps.toFixed(0).padStart(7),
    r.p50Ms.toFixed(2).padStart(8),
    r.p99Ms.toFixed(2).padStart(8),
    r.p999Ms.toFixed(2).padStart(8),
    r.maxMs.toFixed(1).padStart(8),
    String(r.errors).padStart(6),
    String(r.maxInFlight ?? "").padStart(9),
    (r.rps / base).toFixed(2).padStart(8),
    r.nodeUs.toFixed(0).padStart(13),
    r.postgresUs.toFixed(0).padStart(11),
  ];
  console.log(cells.join(" "));
  if (r.firstError) console.log(`  first error: ${r.firstError}`);
}
