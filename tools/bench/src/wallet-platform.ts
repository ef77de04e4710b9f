// The whole platform as child processes for the wallet benchmark: each service's own main.ts (as `./dev start`
// runs them) on scratch schemas, a fresh NATS namespace and Redis prefix, free ports and fresh service
// credentials; removed again by stop(). Also reads each process's CPU time from /proc, for where the time goes.
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { openSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus } from "@fintech/proto/grpc/health/v1/health_pb.js";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { Redis } from "ioredis";
import pg from "pg";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const CLOCK_TICKS_PER_SECOND = 100;

/** The services, in start order: gRPC services first (identity before the others), the gateway last. */
export const SERVICES = ["identity", "ledger", "fx", "fraud", "wallet", "analytics", "gateway"] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface RunningPlatform {
  /** The gateway's base URL. */
  url: string;
  pids: Record<ServiceName, number>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const address = s.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

async function waitReady(name: ServiceName, port: number, child: ChildProcess): Promise<void> {
  const baseUrl = `http://127.0.0.1:${port}`;
  const health = createClient(Health, createGrpcTransport({ baseUrl }));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
    try {
      if (name === "gateway") {
        if ((await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(1000) })).ok) return;
      } else if (
        (await health.check({ service: "" }, { timeoutMs: 1000 })).status ===
        HealthCheckResponse_ServingStatus.SERVING
      ) {
        return;
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} was not ready within 60 s`);
}

/**
 * Starts every service. `env` adds variables for all; `cpuProfDir` makes each write a V8 CPU profile there on
 * exit (`--cpu-prof`); `logDir` keeps each one's log lines in <dir>/<service>.log (else they are dropped).
 */
export async function startPlatform(
  opts: { env?: Record<string, string>; cpuProfDir?: string; logDir?: string } = {},
) {
  const suffix = randomBytes(4).toString("hex");
  const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const natsUrl = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
  const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const namespace = `bench${suffix}`;
  const redisPrefix = `bench:${suffix}:`;
  const ports = Object.fromEntries(
    await Promise.all(SERVICES.map(async (s) => [s, { port: await freePort(), metrics: await freePort() }])),
  ) as Record<ServiceName, { port: number; metrics: number }>;
  const url = (s: ServiceName) => `http://127.0.0.1:${ports[s].port}`;
  const secrets = Object.fromEntries(SERVICES.map((s) => [s, randomBytes(24).toString("base64url")]));
  const common: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    NATS_URL: natsUrl,
    REDIS_URL: redisUrl,
    EVENTS_NAMESPACE: namespace,
    HOST: "127.0.0.1",
    // Logging on at info, as in production: its cost is part of what is measured.
    LOG_LEVEL: "info",
    IDENTITY_URL: url("identity"),
    LEDGER_URL: url("ledger"),
    FX_URL: url("fx"),
    FRAUD_URL: url("fraud"),
    WALLET_URL: url("wallet"),
    ANALYTICS_URL: url("analytics"),
    ...opts.env,
  };
  const own: Record<ServiceName, Record<string, string>> = {
    identity: {
      SERVICE_CREDENTIALS: SERVICES.filter((s) => s !== "identity")
        .map((s) => `${s}:${secrets[s]}`)
        .join(","),
    },
    ledger: {},
    fx: {},
    fraud: { REDIS_PREFIX: `${redisPrefix}fraud:` },
    wallet: {},
    analytics: { REDIS_PREFIX: `${redisPrefix}analytics:` },
    gateway: {
      RATE_LIMIT_PREFIX: `${redisPrefix}rl:`,
      // Checked on every request, never refusing: the limiter's cost is measured, not its refusals.
      RATE_LIMIT_RPS: "1000000",
      RATE_LIMIT_BURST: "1000000",
    },
  };
  const children = new Map<ServiceName, ChildProcess>();

  async function stop(): Promise<void> {
    const exits = [...children.values()].map(
      (c) =>
        new Promise<void>((resolve) => (c.exitCode !== null ? resolve() : c.once("exit", () => resolve()))),
    );
    for (const c of [...children.values()].reverse()) c.kill("SIGTERM");
    await Promise.all(exits);
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    try {
      for (const s of SERVICES) await admin.query(`DROP SCHEMA IF EXISTS bench_${s}_${suffix} CASCADE`);
    } finally {
      await admin.end();
    }
    const nc = await connect({ servers: natsUrl });
    const jsm = await jetstreamManager(nc);
    for await (const info of jsm.streams.list()) {
      if (info.config.name.startsWith(`${namespace.toUpperCase()}_`))
        await jsm.streams.delete(info.config.name);
    }
    await nc.drain();
    const redis = new Redis(redisUrl);
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${redisPrefix}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== "0");
    redis.disconnect();
  }

  try {
    for (const name of SERVICES) {
      const env = {
        ...process.env,
        ...common,
        ...own[name],
        PORT: String(ports[name].port),
        METRICS_PORT: String(ports[name].metrics),
        DB_SCHEMA: `bench_${name}_${suffix}`,
        ...(name === "identity" ? {} : { SERVICE_CLIENT_SECRET: secrets[name] ?? "" }),
      };
      const prof = opts.cpuProfDir
        ? ["--cpu-prof", `--cpu-prof-dir=${opts.cpuProfDir}`, `--cpu-prof-name=${name}.cpuprofile`]
        : [];
      const child = spawn(
        process.execPath,
        [...prof, "--conditions=source", "--import", "tsx", join(root, `services/${name}/src/main.ts`)],
        {
          cwd: root,
          env,
          stdio: [
            "ignore",
            opts.logDir ? openSync(join(opts.logDir, `${name}.log`), "w") : "ignore",
            "inherit",
          ],
        },
      );
      children.set(name, child);
      // identity first (everyone fetches its JWKS and service tokens), the rest in parallel, the gateway last.
      if (name === "identity" || name === "gateway") await waitReady(name, ports[name].port, child);
      if (name === "analytics") {
        await Promise.all(
          (["ledger", "fx", "fraud", "wallet", "analytics"] as const).map((s) =>
            waitReady(s, ports[s].port, children.get(s) as ChildProcess),
          ),
        );
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const pids = Object.fromEntries(SERVICES.map((s) => [s, children.get(s)?.pid ?? 0])) as Record<
    ServiceName,
    number
  >;
  return { url: url("gateway"), pids, stop } satisfies RunningPlatform;
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat; 0 when it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** CPU seconds used by every process whose command is `comm` (e.g. postgres, nats-server, redis-server). */
export function cpuSecondsOf(comm: string): number {
  let total = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, "utf8").trim() === comm) total += cpuSeconds(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/** The machine's busy and total CPU seconds (all cores), from /proc/stat. */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.reduce((s, x) => s + x, 0);
  return { busy: (total - idle) / CLOCK_TICKS_PER_SECOND, total: total / CLOCK_TICKS_PER_SECOND };
}
