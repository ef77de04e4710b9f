// Benchmark: the ledger under load, beside Postgres's own one-commit-per-operation ceiling, in one run:
//   (a) single-transfer CreateTransfer RPCs, 64 in flight, between random pairs of 10,000 accounts;
//   (b) the same with every transfer crediting one hot merchant account;
//   (c) CreateTransfers RPCs carrying 100 transfers each (random pairs);
//   (d) `pgbench -N` on a scratch database of the same Postgres, with as many clients as (a) has calls in flight;
//   and for context (p), a do-nothing RPC on the same server bootstrap: what the RPC stack alone allows.
// Goals (issue 4): (a) >= 0.7 x (d), (b) >= 0.8 x (a), (c) >= 15,000 transfers/s; and (issue 14) (c) >= 4 x (d).
// Figures are printed, never asserted. The stock grpc-js client runs here, the ledger in a child process
// (ledger-server.ts).
//
//   ./dev npm run bench:ledger -w @fintech/bench
//   BENCH_SECONDS=10 BENCH_IN_FLIGHT=64 BENCH_BATCH_IN_FLIGHT=32 by default; about 90 s in all. BENCH_RUNS=a,c
//   picks runs; BENCH_CPU_PROF=<dir> writes the server's CPU profile.
import { fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { create, toBinary } from "@bufbuild/protobuf";
import type { NewTransfer } from "@fintech/proto/fintech/ledger/v1/ledger_pb.js";
import {
  CreateTransferRequestSchema,
  CreateTransfersRequestSchema,
  NewTransferSchema,
} from "@fintech/proto/fintech/ledger/v1/ledger_pb.js";
import { PingRequestSchema } from "@fintech/proto/fintech/platform/v1/bench_pb.js";
import type { LedgerLoadResult } from "./ledger-load.js";
import { runLedgerLoad } from "./ledger-load.js";
import { runPgbench } from "./pgbench.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const inFlight = Number(process.env.BENCH_IN_FLIGHT ?? 64);
const batchInFlight = Number(process.env.BENCH_BATCH_IN_FLIGHT ?? 32);
const batchSize = 100;
/** Which runs to do, e.g. BENCH_RUNS=a,c while profiling one path; default all four. */
const runs = new Set((process.env.BENCH_RUNS ?? "p,a,b,c,d").split(",").map((r) => r.trim()));
const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const opts = { inFlight, durationMs: seconds * 1000, warmupMs: 2000 };

interface Ready {
  port: number;
  pingPort: number;
  token: string;
  accounts: string[];
  hot: string;
}
interface Checked {
  integrity: boolean;
  transfers: number;
  backlog: number;
  left: number;
  drainSeconds: number;
}

const server = fork(join(dirname(fileURLToPath(import.meta.url)), "ledger-server.ts"), {
  execArgv: [
    "--conditions=source",
    "--import",
    "tsx",
    // BENCH_CPU_PROF=<dir> writes the server's CPU profile there, for finding where its time goes.
    ...(process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
  ],
  stdio: ["ignore", "ignore", "inherit", "ipc"],
});
const setupStarted = performance.now();
const ready = await new Promise<Ready>((resolve, reject) => {
  server.once("message", (m) => resolve(m as Ready));
  server.once("exit", (code) => reject(new Error(`bench server exited with ${code}`)));
});
console.log(
  `ledger ready with ${ready.accounts.length} funded accounts in ${((performance.now() - setupStarted) / 1000).toFixed(1)} s`,
);

const { accounts, hot } = ready;
const address = `127.0.0.1:${ready.port}`;
const pick = () => accounts[Math.floor(Math.random() * accounts.length)] ?? "";

function randomTransfer(credit?: string): NewTransfer {
  const debit = pick();
  let to = credit ?? pick();
  while (to === debit) to = pick();
  return create(NewTransferSchema, {
    id: randomUUID(),
    debitAccountId: debit,
    creditAccountId: to,
    amount: "0.01",
    currency: "MYR",
    code: 1,
  });
}

// Requests are encoded before each run (fresh transfer ids), so the client spends its CPU on calls, not encoding.
function singles(n: number, credit?: string): Buffer[] {
  return Array.from({ length: n }, () =>
    Buffer.from(
      toBinary(
        CreateTransferRequestSchema,
        create(CreateTransferRequestSchema, { transfer: randomTransfer(credit) }),
      ),
    ),
  );
}

function batches(n: number): Buffer[] {
  return Array.from({ length: n }, () =>
    Buffer.from(
      toBinary(
        CreateTransfersRequestSchema,
        create(CreateTransfersRequestSchema, {
          transfers: Array.from({ length: batchSize }, () => randomTransfer()),
        }),
      ),
    ),
  );
}

function cycle(list: Buffer[]): (i: number) => Buffer {
  return (i) => {
    // Past the pre-encoded list a request would repeat a transfer id (a replay): stop measuring garbage.
    if (i >= list.length) throw new Error("benchmark ran out of pre-encoded requests; raise the estimate");
    return list[i] as Buffer;
  };
}

interface Stats {
  cpuMicros: number;
  batchTransfers: number;
  batches: number;
}
type Run = LedgerLoadResult & { cpuMicrosPerTransfer: number; transfersPerBatch: number; inFlight: number };

/** Sends `message` to the server and resolves with its answer. */
function ask<T>(message: string): Promise<T> {
  return new Promise((resolve) => {
    server.once("message", (m) => resolve(m as T));
    server.send(message);
  });
}

/** One measured run, with the server's CPU time per transfer and its mean batch size over the run. */
async function measure(
  name: string,
  path: string,
  at: string,
  requests: Buffer[],
  transfersPerCall: number,
  flight: number,
): Promise<Run> {
  const before = await ask<Stats>("stats");
  const r = await runLedgerLoad(
    name,
    at,
    { path, request: cycle(requests), transfersPerCall, token: ready.token },
    { ...opts, inFlight: flight },
  );
  const after = await ask<Stats>("stats");
  const moved = r.okCallsTotal * transfersPerCall;
  stored += moved;
  return {
    ...r,
    inFlight: flight,
    // Warm-up included on both sides of the ratio: CPU and transfers over the same window.
    // Per call for Ping, which moves nothing.
    cpuMicrosPerTransfer:
      (after.cpuMicros - before.cpuMicros) / Math.max(1, transfersPerCall === 0 ? r.okCallsTotal : moved),
    transfersPerBatch:
      after.batches === before.batches
        ? 0
        : (after.batchTransfers - before.batchTransfers) / (after.batches - before.batches),
  };
}

const maxSingles = (seconds + 2) * 15_000;
const single = "/fintech.ledger.v1.LedgerService/CreateTransfer";
const results: Run[] = [];
let stored = ready.accounts.length; // the funding transfers
try {
  if (runs.has("p")) {
    const ping = Buffer.from(toBinary(PingRequestSchema, create(PingRequestSchema, { payload: "x" })));
    results.push(
      await measure(
        "(p) Ping, do-nothing RPC",
        "/fintech.platform.v1.PingService/Ping",
        `127.0.0.1:${ready.pingPort}`,
        Array.from({ length: maxSingles }, () => ping),
        0,
        inFlight,
      ),
    );
  }
  if (runs.has("a")) {
    results.push(
      await measure("(a) CreateTransfer, random pairs", single, address, singles(maxSingles), 1, inFlight),
    );
  }
  if (runs.has("b")) {
    results.push(
      await measure("(b) CreateTransfer, hot credit", single, address, singles(maxSingles, hot), 1, inFlight),
    );
  }
  if (runs.has("c")) {
    results.push(
      await measure(
        `(c) CreateTransfers x${batchSize}`,
        "/fintech.ledger.v1.LedgerService/CreateTransfers",
        address,
        batches(((seconds + 2) * 40_000) / batchSize),
        batchSize,
        batchInFlight,
      ),
    );
  }
  const checked = await ask<Checked>("integrity");
  console.log(
    `integrity after the runs: ${checked.integrity ? "ok" : "VIOLATED"}; ${checked.transfers} transfers stored ` +
      `(${checked.transfers === stored ? "every acknowledged one" : `expected ${stored}`}); outbox backlog ` +
      `${checked.backlog} when the load stopped, ${checked.left} after ${checked.drainSeconds.toFixed(1)} s`,
  );
} finally {
  server.kill("SIGTERM");
}

const pgbenchTps = runs.has("d") ? await runPgbench(databaseUrl, inFlight, seconds) : undefined;

const byRun = (k: string) => results.find((r) => r.name.startsWith(`(${k})`));
const [p, a, b, c] = [byRun("p"), byRun("a"), byRun("b"), byRun("c")];
console.log(
  `\nledger benchmark: grpc-js client, ${seconds}s each after 2s warm-up, service token on every call (auth as in production)\n`,
);
console.log(
  "run                                in flight  transfers/s   calls/s   p50 ms   p99 ms  errors  server CPU us/transfer  transfers/batch",
);
for (const r of results) {
  console.log(
    `${r.name.padEnd(34)} ${String(r.inFlight).padStart(9)} ${r.transfersPerSecond.toFixed(0).padStart(12)} ${r.callsPerSecond.toFixed(0).padStart(9)} ${r.p50Ms.toFixed(2).padStart(8)} ${r.p99Ms.toFixed(2).padStart(8)} ${String(r.errors).padStart(7)} ${r.cpuMicrosPerTransfer.toFixed(0).padStart(23)} ${r.transfersPerBatch.toFixed(1).padStart(16)}`,
  );
  if (r.firstError) console.log(`    first error: ${r.firstError}`);
}
console.log(
  `${"(d) pgbench -N".padEnd(34)} ${String(inFlight).padStart(9)} ${pgbenchTps === undefined ? "n/a".padStart(12) : pgbenchTps.toFixed(0).padStart(12)}   (tps: one commit per operation)`,
);
{
  const ratio = (x: number, y: number | undefined) =>
    y === undefined || y === 0 ? "n/a" : (x / y).toFixed(2);
  console.log("\ngoals");
  if (a) console.log(`  (a) / (d) = ${ratio(a.transfersPerSecond, pgbenchTps)}   goal >= 0.70`);
  if (a && p)
    console.log(
      `  (a) / (p) = ${ratio(a.transfersPerSecond, p.callsPerSecond)}   (share of the RPC stack's own ceiling)`,
    );
  if (a && b)
    console.log(`  (b) / (a) = ${ratio(b.transfersPerSecond, a.transfersPerSecond)}   goal >= 0.80`);
  if (c) {
    console.log(`  (c) / (d) = ${ratio(c.transfersPerSecond, pgbenchTps)}   goal >= 4.00`);
    console.log(`  (c)       = ${c.transfersPerSecond.toFixed(0)} transfers/s   goal >= 15000`);
  }
}
