// Benchmark: what one RPC costs on each stack we could run, in one run. PingService (a do-nothing RPC) is served
// by three servers, each in its own process (rpc-stack-server.ts): libs/platform's bootstrap (connect-node with
// the interceptors every service runs), bare connect-node, and @grpc/grpc-js. Each is called by a stock grpc-js
// client, by connect-node's gRPC transport, by its Connect transport (binary, HTTP/2) and by libs/platform's
// createServiceTransport (the balanced one every internal client uses, here on one address). Printed: calls/s,
// p50, p99, the server's CPU per call and this process's (client and load driver); then protobuf-es encode/decode
// times for a wallet transaction, the largest message a purchase carries. Figures are printed, never asserted.
//
//   ./dev npm run bench:rpc -w @fintech/bench
//   BENCH_SECONDS (5) per pair after a 1 s warm-up, BENCH_IN_FLIGHT (64) and BENCH_LOW_IN_FLIGHT (1);
//   BENCH_CLIENTS="connect Connect,service Connect" picks clients ("service Connect": createServiceTransport);
//   BENCH_CPU_PROF=<dir> writes each server's CPU profile; BENCH_STACKS=platform,connect picks servers;
//   BENCH_LOG_LEVEL (info) is the platform server's log level.
import type { ChildProcess } from "node:child_process";
import { fork } from "node:child_process";
import { once } from "node:events";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { create, fromBinary, toBinary, toJsonString } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { createServiceTransport } from "@fintech/platform";
import { PingRequestSchema, PingService } from "@fintech/proto/fintech/platform/v1/bench_pb.js";
import { TransactionStatus, TransactionType } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import { TransactionSchema } from "@fintech/proto/fintech/wallet/v1/wallet_pb.js";
import type { Call, LoadResult } from "./load.js";
import { drive, grpcCaller } from "./load.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const inFlightLevels = [
  Number(process.env.BENCH_LOW_IN_FLIGHT ?? 1),
  Number(process.env.BENCH_IN_FLIGHT ?? 64),
];
const ALL_STACKS = ["platform", "connect", "grpc-js"] as const;
/** BENCH_STACKS=platform,connect picks servers; default all three. */
const STACKS = ALL_STACKS.filter((s) =>
  (process.env.BENCH_STACKS ?? ALL_STACKS.join(",")).split(",").includes(s),
);
// "service Connect" is libs/platform's createServiceTransport, what every internal client uses, on one address.
const ALL_CLIENTS = ["grpc-js client", "connect gRPC", "connect Connect", "service Connect"] as const;
/** BENCH_CLIENTS="connect Connect,service Connect" picks clients; default all four. */
const CLIENTS = ALL_CLIENTS.filter((c) =>
  (process.env.BENCH_CLIENTS ?? ALL_CLIENTS.join(",")).split(",").includes(c),
);
const PATH = "/fintech.platform.v1.PingService/Ping";
const request = Buffer.from(toBinary(PingRequestSchema, create(PingRequestSchema, { payload: "ping" })));

async function startServer(stack: string): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(join(dirname(fileURLToPath(import.meta.url)), "rpc-stack-server.ts"), [stack], {
    execArgv: [
      "--conditions=source",
      "--import",
      "tsx",
      // BENCH_CPU_PROF=<dir> writes each server's CPU profile there.
      ...(process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
    ],
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const [ready] = (await once(child, "message")) as [{ port: number }];
  return { child, port: ready.port };
}

async function serverCpu(child: ChildProcess): Promise<number> {
  child.send("cpu");
  const [m] = (await once(child, "message")) as [{ cpuMicros: number }];
  return m.cpuMicros;
}

function caller(kind: (typeof ALL_CLIENTS)[number], url: string): { call: Call; close(): void } {
  if (kind === "grpc-js client") {
    const g = grpcCaller(url.replace("http://", ""));
    return { call: () => g.call(PATH, request), close: () => g.client.close() };
  }
  const transport =
    kind === "connect gRPC"
      ? createGrpcTransport({ baseUrl: url })
      : kind === "service Connect"
        ? createServiceTransport(url)
        : createConnectTransport({ baseUrl: url, httpVersion: "2", useBinaryFormat: true });
  const client = createClient(PingService, transport);
  return {
    call: async () => (await client.ping({ payload: "ping" })).payload === "ping",
    close: () => undefined,
  };
}

interface Row {
  stack: string;
  client: string;
  inFlight: number;
  result: LoadResult;
  serverCpuPerCall: number;
  /** This process's: the client and the load driver, the same driver for every client. */
  clientCpuPerCall: number;
}

const rows: Row[] = [];
for (const stack of STACKS) {
  const { child, port } = await startServer(stack);
  try {
    for (const client of CLIENTS) {
      // grpc-js serves gRPC only: no Connect protocol, no gRPC-Web.
      if (stack === "grpc-js" && (client === "connect Connect" || client === "service Connect")) continue;
      for (const inFlight of inFlightLevels) {
        const c = caller(client, `http://127.0.0.1:${port}`);
        const cpuBefore = await serverCpu(child);
        const clientBefore = process.cpuUsage();
        const result = await drive(`${stack} / ${client}`, c.call, {
          inFlight,
          durationMs: seconds * 1000,
          warmupMs: 1000,
        });
        const clientUsage = process.cpuUsage(clientBefore);
        const cpu = (await serverCpu(child)) - cpuBefore;
        c.close();
        const calls = Math.max(1, result.okTotal);
        rows.push({
          stack,
          client,
          inFlight,
          result,
          serverCpuPerCall: cpu / calls,
          clientCpuPerCall: (clientUsage.user + clientUsage.system) / calls,
        });
      }
    }
  } finally {
    child.kill("SIGTERM");
  }
}

console.log(
  `\nRPC stacks: PingService, ${seconds} s per row after 1 s warm-up; server and client CPU per call include warm-up calls\n`,
);
console.log(
  `${"server".padEnd(10)}${"client".padEnd(18)}${"in flight".padStart(10)}${"calls/s".padStart(10)}` +
    `${"p50 ms".padStart(9)}${"p99 ms".padStart(9)}${"errors".padStart(8)}${"server CPU us/call".padStart(20)}` +
    `${"client CPU us/call".padStart(20)}`,
);
for (const r of rows) {
  console.log(
    `${r.stack.padEnd(10)}${r.client.padEnd(18)}${String(r.inFlight).padStart(10)}` +
      `${Math.round(r.result.rps).toString().padStart(10)}${r.result.p50Ms.toFixed(2).padStart(9)}` +
      `${r.result.p99Ms.toFixed(2).padStart(9)}${String(r.result.errors).padStart(8)}` +
      `${Math.round(r.serverCpuPerCall).toString().padStart(20)}` +
      `${Math.round(r.clientCpuPerCall).toString().padStart(20)}`,
  );
  if (r.result.firstError) console.log(`    first error: ${r.result.firstError}`);
}

// protobuf-es on the message a purchase answers with, in this process.
const tx = create(TransactionSchema, {
  transactionId: "0f8fad5b-d9cb-469f-a165-70867728950e",
  userId: "7c9e6679-7425-40de-944b-e07fc1f90ae7",
  walletId: "e4eaaaf2-d142-11e1-b3e4-080027620cdd",
  amount: "123.45",
  currency: "MYR",
  merchantName: "Kopi Corner",
  merchantCategory: "food",
  transactionType: TransactionType.PURCHASE,
  status: TransactionStatus.COMPLETED,
  fraudScore: 12,
  description: "flat white",
  createdAt: timestampFromDate(new Date()),
  updatedAt: timestampFromDate(new Date()),
});
const bytes = toBinary(TransactionSchema, tx);
function timeIt(label: string, fn: () => unknown): void {
  const n = 100_000;
  for (let i = 0; i < 10_000; i++) fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  console.log(
    `${label.padEnd(44)}${(Number(process.hrtime.bigint() - t0) / n / 1000).toFixed(2).padStart(8)} us`,
  );
}
console.log(`\nprotobuf-es on a wallet Transaction (${bytes.length} bytes binary)`);
timeIt("toBinary", () => toBinary(TransactionSchema, tx));
timeIt("fromBinary", () => fromBinary(TransactionSchema, bytes));
timeIt("toJsonString", () => toJsonString(TransactionSchema, tx));
