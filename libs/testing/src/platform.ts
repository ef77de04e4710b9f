// The whole platform as it runs in production: every service of libs/platform's registry, its main.ts in a
// process of its own, on free loopback ports, against the Postgres, NATS and Redis it is given, with fresh
// service credentials and an admin.
// A service can be killed (SIGKILL, no goodbye) and started again on its ports, as an orchestrator would.
// Or, with mode "one-process", every service in a single process (tools/dev's one-process mode) with the same
// environments, ports and credentials.
// Exported as "@fintech/testing/platform", without the vitest fixtures the package index loads, because the
// fault suite and the benchmarks run outside vitest.
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import type { WriteStream } from "node:fs";
import { createWriteStream } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { ServiceEntry } from "@fintech/platform";
import { platformServices as SERVICES } from "@fintech/platform";
import { Health, HealthCheckResponse_ServingStatus } from "@fintech/proto/grpc/health/v1/health_pb.js";
import { connect } from "@nats-io/transport-node";
import { Redis } from "ioredis";
import { adminQuery } from "./admin-query.js";
import { endChild } from "./end-child.js";
import { freePorts } from "./own-servers.js";
import { deleteStreams } from "./provide-nats.js";
import { deleteKeys } from "./provide-redis.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
/** The entry that starts every service in one process from their environments (JSON on stdin). */
const ONE_PROCESS_ENTRY = "tools/dev/src/one-process-main.ts";
/** The name a one-process platform's own lines (and `nodeArgs`, and its log file) go by. */
export const ONE_PROCESS = "one-process";
/** How long stop() lets a service shut down after SIGTERM before it SIGKILLs it, in milliseconds. */
const STOP_GRACE_MS = 10_000;
/** How much of a service's latest output an error quotes, in characters. */
const TAIL_CHARS = 4_000;

/** Options for {@link startPlatform}. */
export interface PlatformOptions {
  /** The Postgres server (and database) every service uses, each in the schema named after it. */
  databaseUrl: string;
  natsUrl: string;
  redisUrl: string;
  /**
   * A database of the platform's own beside `databaseUrl`'s, a NATS namespace and a Redis key prefix of its
   * own (unless `namespace` or `redisPrefix` are given), all removed again by stop(). Default false: the
   * servers are the run's own (the fault suite's), or the caller cleans up.
   */
  isolate?: boolean;
  /** EVENTS_NAMESPACE of every service: streams `<NAMESPACE>_<CTX>`, subjects `<namespace>.<ctx>.>`. */
  namespace?: string;
  /** Every Redis key starts with it: `<prefix><service>:` for fraud and analytics, `<prefix>rl:` for rate limits. */
  redisPrefix?: string;
  /** Variables for every service (e.g. shorter intervals), over the booter's own. */
  env?: Record<string, string>;
  /** More service clients identity accepts (name -> secret), for a caller that calls services itself. */
  clients?: Record<string, string>;
  /** Where services' output goes: kept in memory (default, see logs()), `<dir>/<service>.log`, or nowhere. */
  output?: "memory" | { dir: string } | "discard";
  /** Extra `node` arguments for a service's process (e.g. --cpu-prof); asked with "one-process" in that mode. */
  nodeArgs?: (service: string) => readonly string[];
  /**
   * "processes" (default): every service's main.ts in a process of its own, as in production. "one-process":
   * every service in one process (`./dev start --one-process`), each still with its own environment, schema,
   * events, credentials and port, calling the others in-process. There pid() is the same for every service,
   * and kill() and restart() of any service act on that process, so on every service; output to a directory
   * goes to `<dir>/one-process.log`.
   */
  mode?: "processes" | "one-process";
  /** How long each start-up wave may take to serve, in milliseconds (default 180 000). */
  readyTimeoutMs?: number;
}

/** A running platform; see {@link startPlatform}. */
export interface RunningPlatform {
  /** The gateway's base URL. */
  readonly gatewayUrl: string;
  /** The admin identity creates at its first start. */
  readonly admin: { readonly email: string; readonly password: string };
  /** The database the services use (the platform's own under `isolate`). */
  readonly databaseUrl: string;
  /** Every service's EVENTS_NAMESPACE, if it has one. */
  readonly namespace: string | undefined;
  /** The start of every Redis key of the platform's, if it has one. */
  readonly redisPrefix: string | undefined;
  /** Every service's name, in start order. */
  readonly services: readonly string[];
  /** A service's base URL (`http://127.0.0.1:<port>`). */
  url(service: string): string;
  /** "processes" or "one-process"; see {@link PlatformOptions.mode}. */
  readonly mode: "processes" | "one-process";
  /** The process id of a service's running process; undefined while it is down. */
  pid(service: string): number | undefined;
  /** Every line the services wrote, each prefixed "[service] " (output "memory" only). */
  logs(): string;
  /** True when the service answers its readiness probe (grpc.health.v1 SERVING, or the gateway's /ready). */
  serving(service: string): Promise<boolean>;
  /** Waits until the service serves; rejects with its latest output when it exits or does not serve in time. */
  waitServing(service: string, timeoutMs?: number): Promise<void>;
  /** SIGKILL: the process gets no chance to finish what it was doing. */
  kill(service: string): Promise<void>;
  /** Starts a killed or exited service again on the same ports and waits until it serves. */
  restart(service: string): Promise<void>;
  /** Services whose process exited without being killed or stopped, with their exit codes. */
  exited(): Array<{ name: string; code: number | null }>;
  /** Starts again every service that exited by itself (what an orchestrator does), waits for each, names them. */
  restartExited(): Promise<string[]>;
  /** Stops every service (SIGTERM, SIGKILL after 10 s) and, under `isolate`, removes what the platform stored. */
  stop(): Promise<void>;
}

interface Running {
  svc: ServiceEntry;
  port: number;
  env: NodeJS.ProcessEnv;
  child: ChildProcess | undefined;
  /** The latest output, for errors. */
  tail: string;
  file: WriteStream | undefined;
}

/**
 * Starts every service of the platform (identity first, then the other gRPC services together, then the
 * gateway) and resolves once each serves, or stops what started and rejects with the failing service's
 * latest output.
 */
export async function startPlatform(opts: PlatformOptions): Promise<RunningPlatform> {
  const suffix = randomBytes(4).toString("hex");
  const isolate = opts.isolate === true;
  const namespace = opts.namespace ?? (isolate ? `p${suffix}` : undefined);
  const redisPrefix = opts.redisPrefix ?? (isolate ? `p${suffix}:` : undefined);
  const database = isolate ? `platform_${suffix}` : undefined;
  let databaseUrl = opts.databaseUrl;
  if (database !== undefined) {
    await adminQuery(opts.databaseUrl, `CREATE DATABASE ${database}`);
    const url = new URL(opts.databaseUrl);
    url.pathname = `/${database}`;
    databaseUrl = url.toString();
  }
  const output = opts.output ?? "memory";
  const mode = opts.mode ?? "processes";
  const oneProcess = mode === "one-process";
  // In one process, every service's lines come out of one process and go to one file.
  const sharedFile =
    oneProcess && typeof output === "object"
      ? createWriteStream(join(output.dir, `${ONE_PROCESS}.log`), { flags: "a" })
      : undefined;
  const lines: string[] = [];
  const admin = {
    email: "platform-admin@example.com",
    password: `Admin ${randomBytes(9).toString("base64url")} 42`,
  };
  const secrets = new Map(SERVICES.map((s) => [s.name, randomBytes(24).toString("base64url")]));
  const credentials = [
    ...SERVICES.filter((s) => s.name !== "identity").map((s) => `${s.name}:${secrets.get(s.name)}`),
    ...Object.entries(opts.clients ?? {}).map(([name, secret]) => `${name}:${secret}`),
  ].join(",");

  const ports = await freePorts(SERVICES.length * 2);
  // Each backend at the variable the registry names for it (FX_URL, ...), on its free port.
  const urls = Object.fromEntries(
    SERVICES.flatMap((s, i) =>
      s.urlEnv === undefined ? [] : [[s.urlEnv, `http://127.0.0.1:${ports[2 * i]}`]],
    ),
  );
  const running = new Map<string, Running>();
  SERVICES.forEach((svc, i) => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...urls,
      LOG_LEVEL: "info",
      ...opts.env,
      HOST: "127.0.0.1",
      PORT: String(ports[2 * i]),
      METRICS_PORT: String(ports[2 * i + 1]),
      DATABASE_URL: databaseUrl,
      NATS_URL: opts.natsUrl,
      REDIS_URL: opts.redisUrl,
      ADMIN_EMAIL: admin.email,
      ADMIN_PASSWORD: admin.password,
      SERVICE_CLIENT_SECRET: secrets.get(svc.name) ?? "",
      ...(svc.name === "identity" ? { SERVICE_CREDENTIALS: credentials } : {}),
      ...(namespace === undefined ? {} : { EVENTS_NAMESPACE: namespace }),
      ...(redisPrefix === undefined
        ? {}
        : { REDIS_PREFIX: `${redisPrefix}${svc.name}:`, RATE_LIMIT_PREFIX: `${redisPrefix}rl:` }),
    };
    running.set(svc.name, {
      svc,
      port: ports[2 * i] ?? 0,
      env,
      child: undefined,
      tail: "",
      file:
        typeof output === "object" && !oneProcess
          ? createWriteStream(join(output.dir, `${svc.name}.log`), { flags: "a" })
          : undefined,
    });
  });

  const get = (name: string): Running => {
    const r = running.get(name);
    if (r === undefined) throw new Error(`unknown service ${name}`);
    return r;
  };
  const url = (name: string) => `http://127.0.0.1:${get(name).port}`;
  const note = (r: Running, text: string) => {
    r.tail = (r.tail + text).slice(-TAIL_CHARS);
    if (output === "memory") {
      for (const line of text.split("\n").filter((l) => l !== "")) lines.push(`[${r.svc.name}] ${line}`);
    }
    r.file?.write(text);
  };

  const launch = (r: Running) => (oneProcess ? launchAll() : launchOne(r));

  const launchOne = (r: Running) => {
    const child = spawn(
      process.execPath,
      [
        ...(opts.nodeArgs?.(r.svc.name) ?? []),
        "--conditions=source",
        "--import",
        "tsx",
        join(ROOT, "services", r.svc.name, "src", "main.ts"),
      ],
      { cwd: ROOT, env: r.env, stdio: ["ignore", output === "discard" ? "ignore" : "pipe", "pipe"] },
    );
    for (const stream of [child.stdout, child.stderr]) {
      if (stream !== null) createInterface({ input: stream }).on("line", (line) => note(r, `${line}\n`));
    }
    r.child = child;
  };

  // Each line goes to the service that wrote it (its `service` field); the process's own lines to every one.
  const noteShared = (line: string) => {
    const writer = /"service":"([a-z]+)"/.exec(line)?.[1];
    const r = writer === undefined ? undefined : running.get(writer);
    sharedFile?.write(`${line}\n`);
    if (r !== undefined) {
      r.tail = `${r.tail}${line}\n`.slice(-TAIL_CHARS);
      if (output === "memory") lines.push(`[${r.svc.name}] ${line}`);
      return;
    }
    for (const each of running.values()) each.tail = `${each.tail}${line}\n`.slice(-TAIL_CHARS);
    if (output === "memory") lines.push(`[${ONE_PROCESS}] ${line}`);
  };

  const launchAll = () => {
    const current = [...running.values()][0]?.child;
    if (current !== undefined && current.exitCode === null && current.signalCode === null) return;
    const child = spawn(
      process.execPath,
      [
        ...(opts.nodeArgs?.(ONE_PROCESS) ?? []),
        "--conditions=source",
        "--import",
        "tsx",
        join(ROOT, ONE_PROCESS_ENTRY),
      ],
      { cwd: ROOT, env: process.env, stdio: ["pipe", output === "discard" ? "ignore" : "pipe", "pipe"] },
    );
    child.stdin?.end(JSON.stringify(Object.fromEntries([...running].map(([name, r]) => [name, r.env]))));
    for (const stream of [child.stdout, child.stderr]) {
      if (stream !== null) createInterface({ input: stream }).on("line", noteShared);
    }
    for (const r of running.values()) r.child = child;
  };

  const serving = async (name: string): Promise<boolean> => {
    const r = get(name);
    try {
      if (r.svc.kind === "http") {
        return (await fetch(`${url(name)}/ready`, { signal: AbortSignal.timeout(2_000) })).ok;
      }
      const health = createClient(Health, createGrpcTransport({ baseUrl: url(name) }));
      const res = await health.check({ service: "" }, { timeoutMs: 2_000 });
      return res.status === HealthCheckResponse_ServingStatus.SERVING;
    } catch {
      return false;
    }
  };

  const waitServing = async (name: string, timeoutMs = opts.readyTimeoutMs ?? 180_000) => {
    const r = get(name);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const child = r.child;
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`${name} exited with ${child?.exitCode ?? child?.signalCode}:\n${r.tail}`);
      }
      if (await serving(name)) return;
      if (Date.now() >= deadline) throw new Error(`${name} did not serve within ${timeoutMs} ms:\n${r.tail}`);
      await sleep(200);
    }
  };

  const end = async (r: Running, signal: "SIGKILL" | "SIGTERM") => {
    const child = r.child;
    if (oneProcess) {
      for (const each of running.values()) each.child = undefined;
    }
    r.child = undefined;
    await endChild(child, signal, STOP_GRACE_MS);
  };

  const exitedByThemselves = () =>
    [...running.values()].filter(
      (r) => r.child !== undefined && (r.child.exitCode !== null || r.child.signalCode !== null),
    );

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      await Promise.all([...running.values()].map((r) => end(r, "SIGTERM")));
      await Promise.all(
        [...running.values()].map((r) =>
          r.file === undefined ? undefined : new Promise((done) => r.file?.end(done)),
        ),
      );
      if (sharedFile !== undefined) await new Promise((done) => sharedFile.end(done));
      if (database !== undefined)
        await adminQuery(opts.databaseUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      if (isolate && opts.namespace === undefined && namespace !== undefined) {
        const nc = await connect({ servers: opts.natsUrl, name: `platform ${namespace} cleanup` });
        try {
          await deleteStreams(nc, `${namespace.toUpperCase()}_`);
        } finally {
          await nc.drain();
        }
      }
      if (isolate && opts.redisPrefix === undefined && redisPrefix !== undefined) {
        const redis = new Redis(opts.redisUrl, { lazyConnect: true });
        await redis.connect();
        try {
          await deleteKeys(redis, redisPrefix);
        } finally {
          await redis.quit();
        }
      }
    })();
    return stopped;
  };

  const platform: RunningPlatform = {
    gatewayUrl: url("gateway"),
    admin,
    databaseUrl,
    namespace,
    redisPrefix,
    services: SERVICES.map((s) => s.name),
    mode,
    url,
    pid: (name) => get(name).child?.pid,
    logs: () => lines.join("\n"),
    serving,
    waitServing,
    async kill(name) {
      const r = get(name);
      await end(r, "SIGKILL");
      note(r, `--- SIGKILL at ${new Date().toISOString()} ---\n`);
    },
    async restart(name) {
      const r = get(name);
      if (r.child === undefined || r.child.exitCode !== null || r.child.signalCode !== null) launch(r);
      if (oneProcess) await Promise.all(SERVICES.map((s) => waitServing(s.name)));
      else await waitServing(name);
    },
    exited: () => exitedByThemselves().map((r) => ({ name: r.svc.name, code: r.child?.exitCode ?? null })),
    async restartExited() {
      const names = exitedByThemselves().map((r) => r.svc.name);
      // Every service of the one process is in `names`, and launching it once starts them all.
      for (const name of names) launch(get(name));
      for (const name of names) await waitServing(name);
      return names;
    },
    stop,
  };

  try {
    // identity first: every other service fetches its keys and its own service token there.
    const waves = [
      SERVICES.filter((s) => s.name === "identity"),
      SERVICES.filter((s) => s.kind === "grpc" && s.name !== "identity"),
      SERVICES.filter((s) => s.kind === "http"),
    ];
    if (oneProcess) {
      // The process starts them in dependency order itself; each is waited for as in the waves.
      for (const r of running.values()) launch(r);
      for (const wave of waves) await Promise.all(wave.map((svc) => waitServing(svc.name)));
    } else {
      for (const wave of waves) {
        for (const svc of wave) launch(get(svc.name));
        await Promise.all(wave.map((svc) => waitServing(svc.name)));
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return platform;
}
