// Benchmark: fx GetRate and CreateQuote over gRPC at 64 requests in flight, beside a do-nothing RPC
// on the same server bootstrap in the same run. Prints rps, p50 and p99, and the ratio of each to the
// do-nothing RPC: the share of throughput left after the platform's interceptors, validation,
// logging and the service's own work.
//
//   ./dev npm run bench:fx -w @fintech/bench     (BENCH_SECONDS=10 BENCH_IN_FLIGHT=64 by default)
import { fork } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { create, toBinary } from "@bufbuild/protobuf";
import { CreateQuoteRequestSchema, GetRateRequestSchema } from "@fintech/proto/fintech/fx/v1/fx_pb.js";
import { PingRequestSchema } from "@fintech/proto/fintech/platform/v1/bench_pb.js";
import type { LoadResult } from "./load.js";
import { runLoad } from "./load.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const inFlight = Number(process.env.BENCH_IN_FLIGHT ?? 64);
const opts = { inFlight, durationMs: seconds * 1000, warmupMs: 2000 };

const server = fork(join(dirname(fileURLToPath(import.meta.url)), "fx-server.ts"), {
  execArgv: ["--conditions=source", "--import", "tsx"],
  stdio: ["ignore", "ignore", "inherit", "ipc"],
});
const ports = await new Promise<{ fxPort: number; pingPort: number; token: string }>((resolve, reject) => {
  server.once("message", (m) => resolve(m as { fxPort: number; pingPort: number; token: string }));
  server.once("exit", (code) => reject(new Error(`bench server exited with ${code}`)));
});

const pairs = [
  ["MYR", "SGD"],
  ["SGD", "USD"],
  ["USD", "MYR"],
] as const;
const ping = Buffer.from(toBinary(PingRequestSchema, create(PingRequestSchema, { payload: "x" })));
const getRate = pairs.map(([base, quote]) =>
  Buffer.from(toBinary(GetRateRequestSchema, create(GetRateRequestSchema, { base, quote }))),
);
const createQuote = pairs.map(([from, to], k) =>
  Buffer.from(
    toBinary(
      CreateQuoteRequestSchema,
      create(CreateQuoteRequestSchema, { fromCurrency: from, toCurrency: to, amount: `${100 + k}.50` }),
    ),
  ),
);
const at = (port: number) => `127.0.0.1:${port}`;
const pick = (list: Buffer[]) => (i: number) => list[i % list.length] as Buffer;
const metadata = { authorization: `Bearer ${ports.token}` };

const results: LoadResult[] = [];
try {
  results.push(
    await runLoad(
      "Ping (do-nothing)",
      at(ports.pingPort),
      { path: "/fintech.platform.v1.PingService/Ping", request: () => ping },
      opts,
    ),
  );
  results.push(
    await runLoad(
      "fx GetRate",
      at(ports.fxPort),
      { path: "/fintech.fx.v1.FxService/GetRate", request: pick(getRate), metadata },
      opts,
    ),
  );
  results.push(
    await runLoad(
      "fx CreateQuote",
      at(ports.fxPort),
      { path: "/fintech.fx.v1.FxService/CreateQuote", request: pick(createQuote), metadata },
      opts,
    ),
  );
} finally {
  server.kill("SIGTERM");
}

const base = results[0]?.rps ?? 1;
console.log(`\nfx benchmark: grpc-js client, ${inFlight} in flight, ${seconds}s each after 2s warm-up\n`);
console.log("rpc                    rps      p50 ms   p99 ms   errors   ratio to do-nothing");
for (const r of results) {
  console.log(
    `${r.name.padEnd(20)} ${r.rps.toFixed(0).padStart(7)} ${r.p50Ms.toFixed(2).padStart(9)} ${r.p99Ms.toFixed(2).padStart(8)} ${String(r.errors).padStart(8)}   ${(r.rps / base).toFixed(2)}`,
  );
}
