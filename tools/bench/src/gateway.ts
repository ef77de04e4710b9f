// Benchmark: the REST gateway against the same calls made straight to the service over gRPC, in one run.
// GET /api/v1/users/me through the gateway (HTTP/1.1 keep-alive; JWT verified, rate limit checked in Redis,
// Connect call to identity) vs identity's GetMe with a stock grpc-js client; the same for fx rates
// (GET /api/v1/fx/rates/SGD/MYR vs GetRate); then logins/s (argon2id) and /users/me latency during a login flood.
// The gateway runs once per backend protocol (BENCH_GATEWAY_PROTOCOLS, default "connect,grpc").
// Rate limits are raised so that they are checked on every request but never refuse.
//
//   ./dev npm run bench:gateway -w @fintech/bench     (BENCH_SECONDS=10 BENCH_IN_FLIGHT=64 by default)
import type { ChildProcess } from "node:child_process";
import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { create, toBinary } from "@bufbuild/protobuf";
import { serviceRegistry } from "@fintech/platform";
import { GetRateRequestSchema } from "@fintech/proto/fintech/fx/v1/fx_pb.js";
import { GetMeRequestSchema } from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import { httpCaller } from "./http-load.js";
import type { LoadResult } from "./load.js";
import { drive, grpcCaller } from "./load.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const inFlight = Number(process.env.BENCH_IN_FLIGHT ?? 64);
const protocols = (process.env.BENCH_GATEWAY_PROTOCOLS ?? "connect,grpc").split(",").filter(Boolean);
const opts = { inFlight, durationMs: seconds * 1000, warmupMs: 2000 };
const here = dirname(fileURLToPath(import.meta.url));
const secret = randomBytes(24).toString("hex");
const USERS = 8;
const PASSWORD = "bench-Password-2026";

function start<T>(file: string, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; info: T }> {
  const child = fork(join(here, file), {
    execArgv: ["--conditions=source", "--import", "tsx"],
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    child.once("message", (m) => resolve({ child, info: m as T }));
    child.once("exit", (code) => reject(new Error(`${file} exited with ${code}`)));
  });
}

const stop = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });

const backends = await start<{ identityUrl: string; identityPort: number; fxUrl: string; fxPort: number }>(
  "gateway-backends.ts",
  { BENCH_GATEWAY_SECRET: secret },
);
const results: Array<LoadResult & { base?: string }> = [];
let loginResult: LoadResult | undefined;
let meDuringFlood: LoadResult | undefined;
try {
  const b = backends.info;
  const identityGrpc = grpcCaller(`127.0.0.1:${b.identityPort}`);
  const fxGrpc = grpcCaller(`127.0.0.1:${b.fxPort}`);
  const getMe = Buffer.from(toBinary(GetMeRequestSchema, create(GetMeRequestSchema, {})));
  const getRate = Buffer.from(
    toBinary(GetRateRequestSchema, create(GetRateRequestSchema, { base: "SGD", quote: "MYR" })),
  );

  for (const [k, protocol] of protocols.entries()) {
    const edge = await start<{ url: string }>("gateway-edge.ts", {
      [serviceRegistry.identity.urlEnv]: b.identityUrl,
      [serviceRegistry.fx.urlEnv]: b.fxUrl,
      SERVICE_CLIENT_SECRET: secret,
      BACKEND_PROTOCOL: protocol,
      RATE_LIMIT_RPS: "1000000",
      RATE_LIMIT_BURST: "1000000",
      RATE_LIMIT_PREFIX: `bench:${randomBytes(4).toString("hex")}:`,
    });
    try {
      const http = httpCaller(edge.info.url, inFlight);
      const json = { "content-type": "application/json" };
      // Users sign up through the gateway, as a client would.
      const tokens: string[] = [];
      const emails: string[] = [];
      for (let u = 0; u < USERS; u++) {
        const email = `bench-${k}-${u}-${randomBytes(4).toString("hex")}@example.com`;
        const reg = await http.call(
          "POST",
          "/api/v1/auth/register",
          json,
          JSON.stringify({ email, password: PASSWORD, full_name: "Bench" }),
        );
        if (reg.status !== 201) throw new Error(`register: ${reg.status} ${reg.body}`);
        emails.push(email);
        const login = await http.call(
          "POST",
          "/api/v1/auth/login",
          json,
          JSON.stringify({ email, password: PASSWORD }),
        );
        tokens.push((JSON.parse(login.body) as { access_token: string }).access_token);
      }
      const auth = (i: number) => ({ authorization: `Bearer ${tokens[i % tokens.length]}` });

      if (k === 0) {
        results.push(
          await drive(
            "identity GetMe, gRPC direct",
            (i) => identityGrpc.call("/fintech.identity.v1.IdentityService/GetMe", getMe, auth(i)),
            opts,
          ),
        );
      }
      const me = await drive(
        `GET /users/me via gateway (${protocol})`,
        async (i) => (await http.call("GET", "/api/v1/users/me", auth(i))).status === 200,
        opts,
      );
      results.push({ ...me, base: "identity GetMe, gRPC direct" });
      if (k === 0) {
        results.push(
          await drive(
            "fx GetRate, gRPC direct",
            (i) => fxGrpc.call("/fintech.fx.v1.FxService/GetRate", getRate, auth(i)),
            opts,
          ),
        );
      }
      const rate = await drive(
        `GET /fx/rates/SGD/MYR via gateway (${protocol})`,
        async (i) => (await http.call("GET", "/api/v1/fx/rates/SGD/MYR", auth(i))).status === 200,
        opts,
      );
      results.push({ ...rate, base: "fx GetRate, gRPC direct" });

      if (k === 0) {
        // Logins are argon2id on purpose: measure them apart, and /users/me while they flood identity.
        const loginBody = (i: number) =>
          JSON.stringify({ email: emails[i % emails.length], password: PASSWORD });
        const floodOpts = { ...opts, inFlight: Math.max(1, inFlight / 2) };
        const [logins, meFlood] = await Promise.all([
          drive(
            "POST /auth/login (argon2id)",
            async (i) => (await http.call("POST", "/api/v1/auth/login", json, loginBody(i))).status === 200,
            floodOpts,
          ),
          drive(
            "GET /users/me during the login flood",
            async (i) => (await http.call("GET", "/api/v1/users/me", auth(i))).status === 200,
            floodOpts,
          ),
        ]);
        loginResult = logins;
        meDuringFlood = meFlood;
      }
      http.agent.destroy();
    } finally {
      await stop(edge.child);
    }
  }
  identityGrpc.client.close();
  fxGrpc.client.close();
} finally {
  await stop(backends.child);
}

console.log(
  `\ngateway benchmark: ${inFlight} in flight, ${seconds}s each after 2s warm-up (gateway over HTTP/1.1 keep-alive; direct: grpc-js)\n`,
);
console.log(
  "call                                             rps     p50 ms   p99 ms   errors   ratio to direct",
);
const byName = new Map(results.map((r) => [r.name, r]));
for (const r of results) {
  const base = r.base === undefined ? undefined : byName.get(r.base);
  const ratio = base === undefined ? "" : (r.rps / base.rps).toFixed(2);
  console.log(
    `${r.name.padEnd(45)} ${r.rps.toFixed(0).padStart(7)} ${r.p50Ms.toFixed(2).padStart(9)} ${r.p99Ms.toFixed(2).padStart(8)} ${String(r.errors).padStart(8)}   ${ratio}`,
  );
}
for (const r of [loginResult, meDuringFlood]) {
  if (r === undefined) continue;
  console.log(
    `${r.name.padEnd(45)} ${r.rps.toFixed(1).padStart(7)} ${r.p50Ms.toFixed(2).padStart(9)} ${r.p99Ms.toFixed(2).padStart(8)} ${String(r.errors).padStart(8)}`,
  );
}
