// The whole platform as it runs in production: every service of libs/platform's registry, its main.ts in a
// process of its own, on free loopback ports, against the Postgres, NATS and Redis it is given, with fresh
// service credentials and an admin.
// A service can be killed (SIGKILL, no goodbye) and started again on its ports, as an orchestrator would.
// A backend can run as several replicas, each its own process on its own loopback address (127.0.0.2,
// 127.0.0.3, ...) on the service's port, sharing its schema, NATS namespace and Redis prefix; every caller's
// `<NAME>_URL` lists them all, as a name resolving to several addresses would (a headless Service). A replica
// is killed, restarted or added (on an address the list held in advance) while the others serve.
// Or, with mode "one-process", every service in a single process (tools/dev's one-process mode) with the same
// environments, ports and credentials.
// Exported as "@fintech/testing/platform", without the vitest fixtures the package index loads, because the
// fault suite and the benchmarks run outside vitest.
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import type { WriteStream } from "node:fs";
import { createWriteStream, mkdirSync } from "node:fs";
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
import type { Served } from "./requests-served.js";
import { requestsServed } from "./requests-served.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
/** The entry that starts every service in one process from their environments (JSON on stdin). */
const ONE_PROCESS_ENTRY = "tools/dev/src/one-process-main.ts";
/** The name a one-process platform's own lines (and `nodeArgs`, and its log file) go by. */
export const ONE_PROCESS = "one-process";
/** How long stop() lets a service shut down after SIGTERM before it SIGKILLs it, in milliseconds. */
const STOP_GRACE_MS = 10_000;
/**
 * The services' processes still running, from every platform this process started: SIGKILLed when it exits
 * without having stopped them (a benchmark or a test that failed with an uncaught error), so that they do not
 * go on serving and polling after it. A process killed by a signal runs no handler; its children share its
 * process group, which a terminal's Ctrl-C reaches.
 */
const started = new Set<ChildProcess>();

function killedAtExit(child: ChildProcess): void {
  if (started.size === 0) process.once("exit", killStarted);
  started.add(child);
  child.once("exit", () => {
    started.delete(child);
    if (started.size === 0) process.off("exit", killStarted);
  });
}

function killStarted(): void {
  for (const child of started) child.kill("SIGKILL");
}

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
  /**
   * Where services' output goes: kept in memory (default, see logs()), `<dir>/<service>.log` (the directory is
   * made if missing), or nowhere.
   */
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
  /**
   * Replicas of a backend (default 1), e.g. `{ wallet: 2, ledger: 2 }`: replica k (named `wallet@k`) is a process
   * of its own with HOST 127.0.0.<k+1> on the service's port and metrics port, and every caller's `WALLET_URL` is
   * the comma-separated list of the replicas' URLs. Not in "one-process" mode, not for the gateway.
   */
  replicas?: Readonly<Record<string, number>>;
  /**
   * Addresses every caller's URL lists per backend (default: its replicas), so that addReplica() can start one
   * more while the platform runs and callers find it where they look: `{ wallet: 3 }` with `replicas: { wallet:
   * 1 }` starts `wallet@1` and leaves room for two. Callers see the addresses not yet served as down.
   */
  maxReplicas?: Readonly<Record<string, number>>;
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
  /**
   * A base URL to call a service (or one replica, `wallet@2`) at directly: `http://127.0.0.1:<port>`; for a
   * service of several replicas, the first running one's.
   */
  url(service: string): string;
  /** What every caller of a backend is given as `<NAME>_URL`: its URL, or its replicas' URLs separated by commas. */
  callerUrl(service: string): string;
  /** Where a service (its first running replica), or one replica, serves /metrics: `http://<host>:<port>`. */
  metricsUrl(service: string): string;
  /**
   * The replicas of a service started so far (`wallet@1`, `wallet@2`, ...; killed ones included), or the
   * service's own name when it runs as one process on 127.0.0.1. Every method taking a service takes these.
   */
  replicas(service: string): readonly string[];
  /** Starts the next replica of a service on the next address callers were given, waits until it serves, names it. */
  addReplica(service: string): Promise<string>;
  /**
   * The platform's RPCs (health checks left out) and the events a replica, or a service's first running replica,
   * has handled since it started, from its own /metrics; undefined while it is down.
   */
  requestsServed(service: string): Promise<Served | undefined>;
  /** "processes" or "one-process"; see {@link PlatformOptions.mode}. */
  readonly mode: "processes" | "one-process";
  /** The process id of a service's (its first running replica's) or a replica's process; undefined while down. */
  pid(service: string): number | undefined;
  /** Every line the services wrote, each prefixed "[service] " or "[service@k] " (output "memory" only). */
  logs(): string;
  /**
   * True when the service answers its readiness probe (grpc.health.v1 SERVING, or the gateway's /ready); for a
   * service of several replicas, when one of them does (its callers are served).
   */
  serving(service: string): Promise<boolean>;
  /**
   * Waits until the service (each of its replicas not killed) serves; rejects with its latest output when it
   * exits or does not serve in time.
   */
  waitServing(service: string, timeoutMs?: number): Promise<void>;
  /** SIGKILL (of every replica, unless one is named): the process gets no chance to finish what it was doing. */
  kill(service: string): Promise<void>;
  /** Starts a killed or exited service (or replica) again on the same address and ports, waits until it serves. */
  restart(service: string): Promise<void>;
  /** Services (replicas) whose process exited without being killed or stopped, with their exit codes. */
  exited(): Array<{ name: string; code: number | null }>;
  /** Starts again every service that exited by itself (what an orchestrator does), waits for each, names them. */
  restartExited(): Promise<string[]>;
  /** Stops every service (SIGTERM, SIGKILL after 10 s) and, under `isolate`, removes what the platform stored. */
  stop(): Promise<void>;
}

interface Running {
  svc: ServiceEntry;
  /** The service's name, or `<service>@<k>` for replica k of a service run as several. */
  name: string;
  host: string;
  port: number;
  metricsPort: number;
  /** Whether it was ever started (a slot kept for addReplica() is not until then). */
  launched: boolean;
  env: NodeJS.ProcessEnv;
  child: ChildProcess | undefined;
  /** The latest output, for errors. */
  tail: string;
  file: WriteStream | undefined;
}

/** Where replica k (1-based) of a service run as several listens: 127.0.0.2, 127.0.0.3, ... */
function replicaHost(k: number): string {
  return `127.0.0.${k + 1}`;
}
/** The most replicas (addresses) of one service: 127.0.0.2 to 127.0.0.254. */
const MAX_REPLICAS = 253;

/** How many replicas of each service start, and how many addresses its callers are given. */
function replicaLayout(
  opts: PlatformOptions,
  oneProcess: boolean,
): Map<string, { replicas: number; slots: number }> {
  for (const name of [...Object.keys(opts.replicas ?? {}), ...Object.keys(opts.maxReplicas ?? {})]) {
    if (!SERVICES.some((s) => s.name === name)) throw new Error(`replicas of an unknown service ${name}`);
  }
  const layout = new Map<string, { replicas: number; slots: number }>();
  for (const svc of SERVICES) {
    const replicas = opts.replicas?.[svc.name] ?? 1;
    const slots = Math.max(replicas, opts.maxReplicas?.[svc.name] ?? replicas);
    if (!Number.isInteger(replicas) || replicas < 1 || slots > MAX_REPLICAS) {
      throw new Error(`${svc.name}: replicas must be whole numbers from 1 to ${MAX_REPLICAS}`);
    }
    if (slots > 1 && svc.urlEnv === undefined) {
      throw new Error(`${svc.name} has no URL variable for callers to list replicas in: it runs as one`);
    }
    if (slots > 1 && oneProcess)
      throw new Error("replicas run as processes of their own, not in one-process mode");
    layout.set(svc.name, { replicas, slots });
  }
  return layout;
}

/**
 * Starts every service of the platform (identity first, then the other gRPC services together, then the
 * gateway; every replica of a service with it) and resolves once each serves, or stops what started and rejects
 * with the failing service's latest output.
 */
export async function startPlatform(opts: PlatformOptions): Promise<RunningPlatform> {
  const mode = opts.mode ?? "processes";
  const oneProcess = mode === "one-process";
  const layout = replicaLayout(opts, oneProcess);
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
  if (typeof output === "object") mkdirSync(output.dir, { recursive: true });
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
  // A service run as one listens on 127.0.0.1; one of several replicas on addresses of their own.
  const hostsOf = (name: string): string[] => {
    const slots = layout.get(name)?.slots ?? 1;
    return slots === 1 ? ["127.0.0.1"] : Array.from({ length: slots }, (_, k) => replicaHost(k + 1));
  };
  // Each backend at the variable the registry names for it (FX_URL, ...): its address(es) on its free port.
  const urls: Record<string, string> = Object.fromEntries(
    SERVICES.flatMap((s, i) =>
      s.urlEnv === undefined
        ? []
        : [
            [
              s.urlEnv,
              hostsOf(s.name)
                .map((host) => `http://${host}:${ports[2 * i]}`)
                .join(","),
            ],
          ],
    ),
  );
  const running = new Map<string, Running>();
  const byService = new Map<string, Running[]>();
  SERVICES.forEach((svc, i) => {
    const hosts = hostsOf(svc.name);
    const instances = hosts.map((host, k): Running => {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        ...urls,
        LOG_LEVEL: "info",
        ...opts.env,
        HOST: host,
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
      return {
        svc,
        name: hosts.length === 1 ? svc.name : `${svc.name}@${k + 1}`,
        host,
        port: ports[2 * i] ?? 0,
        metricsPort: ports[2 * i + 1] ?? 0,
        launched: false,
        env,
        child: undefined,
        tail: "",
        file: undefined,
      };
    });
    byService.set(svc.name, instances);
    for (const r of instances) running.set(r.name, r);
  });

  /** A service's replicas (or the one process), or the one replica named. */
  const instancesOf = (name: string): Running[] => {
    const one = running.get(name);
    if (one !== undefined) return [one];
    const several = byService.get(name);
    if (several === undefined) throw new Error(`unknown service ${name}`);
    return several;
  };
  /** The replicas started so far (never none: a service's first one always is, or is about to be). */
  const launchedOf = (name: string): Running[] => {
    const all = instancesOf(name);
    const launched = all.filter((r) => r.launched);
    return launched.length > 0 ? launched : all.slice(0, 1);
  };
  const isUp = (r: Running) =>
    r.child !== undefined && r.child.exitCode === null && r.child.signalCode === null;
  /** The one replica named, or a service's first running replica (its first started one when none runs). */
  const first = (name: string): Running => {
    const launched = launchedOf(name);
    const r = launched.find(isUp) ?? launched[0];
    if (r === undefined) throw new Error(`unknown service ${name}`);
    return r;
  };
  const urlOf = (r: Running) => `http://${r.host}:${r.port}`;
  const note = (r: Running, text: string) => {
    r.tail = (r.tail + text).slice(-TAIL_CHARS);
    if (output === "memory") {
      for (const line of text.split("\n").filter((l) => l !== "")) lines.push(`[${r.name}] ${line}`);
    }
    r.file?.write(text);
  };

  const launch = (r: Running) => (oneProcess ? launchAll() : launchOne(r));

  const launchOne = (r: Running) => {
    r.launched = true;
    if (r.file === undefined && typeof output === "object") {
      r.file = createWriteStream(join(output.dir, `${r.name}.log`), { flags: "a" });
    }
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
    killedAtExit(child);
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
      if (output === "memory") lines.push(`[${r.name}] ${line}`);
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
      // The process's own variables (its trace export, its log level) are the services' shared ones.
      {
        cwd: ROOT,
        env: { ...process.env, ...opts.env },
        stdio: ["pipe", output === "discard" ? "ignore" : "pipe", "pipe"],
      },
    );
    killedAtExit(child);
    child.stdin?.end(JSON.stringify(Object.fromEntries([...running].map(([name, r]) => [name, r.env]))));
    for (const stream of [child.stdout, child.stderr]) {
      if (stream !== null) createInterface({ input: stream }).on("line", noteShared);
    }
    for (const r of running.values()) {
      r.launched = true;
      r.child = child;
    }
  };

  const servingOne = async (r: Running): Promise<boolean> => {
    try {
      if (r.svc.kind === "http") {
        return (await fetch(`${urlOf(r)}/ready`, { signal: AbortSignal.timeout(2_000) })).ok;
      }
      const health = createClient(Health, createGrpcTransport({ baseUrl: urlOf(r) }));
      const res = await health.check({ service: "" }, { timeoutMs: 2_000 });
      return res.status === HealthCheckResponse_ServingStatus.SERVING;
    } catch {
      return false;
    }
  };

  const serving = async (name: string): Promise<boolean> =>
    (await Promise.all(launchedOf(name).map(servingOne))).some((ok) => ok);

  const waitOne = async (r: Running, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const child = r.child;
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`${r.name} exited with ${child?.exitCode ?? child?.signalCode}:\n${r.tail}`);
      }
      if (await servingOne(r)) return;
      if (Date.now() >= deadline)
        throw new Error(`${r.name} did not serve within ${timeoutMs} ms:\n${r.tail}`);
      await sleep(200);
    }
  };

  const waitServing = async (name: string, timeoutMs = opts.readyTimeoutMs ?? 180_000) => {
    const launched = launchedOf(name);
    // Every replica not killed; a service with every replica killed fails as a killed one does.
    const targets = launched.filter((r) => r.child !== undefined);
    await Promise.all((targets.length > 0 ? targets : launched).map((r) => waitOne(r, timeoutMs)));
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
    gatewayUrl: urlOf(first("gateway")),
    admin,
    databaseUrl,
    namespace,
    redisPrefix,
    services: SERVICES.map((s) => s.name),
    mode,
    url: (name) => urlOf(first(name)),
    callerUrl(service) {
      const urlEnv = instancesOf(service)[0]?.svc.urlEnv;
      return urlEnv === undefined ? urlOf(first(service)) : (urls[urlEnv] ?? "");
    },
    metricsUrl(name) {
      const r = first(name);
      return `http://${r.host}:${r.metricsPort}`;
    },
    replicas: (service) => (byService.get(service) ?? []).filter((r) => r.launched).map((r) => r.name),
    async addReplica(service) {
      const slots = byService.get(service);
      if (slots === undefined) throw new Error(`unknown service ${service}`);
      const next = slots.find((r) => !r.launched);
      if (next === undefined) {
        throw new Error(`no address left for another ${service} replica: raise maxReplicas.${service}`);
      }
      launchOne(next);
      await waitOne(next, opts.readyTimeoutMs ?? 180_000);
      return next.name;
    },
    requestsServed: (name) => requestsServed(platform.metricsUrl(name)),
    pid: (name) => first(name).child?.pid,
    logs: () => lines.join("\n"),
    serving,
    waitServing,
    async kill(name) {
      await Promise.all(
        launchedOf(name).map(async (r) => {
          await end(r, "SIGKILL");
          note(r, `--- SIGKILL at ${new Date().toISOString()} ---\n`);
        }),
      );
    },
    async restart(name) {
      const targets = launchedOf(name);
      for (const r of targets) if (!isUp(r)) launch(r);
      if (oneProcess) await Promise.all(SERVICES.map((s) => waitServing(s.name)));
      else await Promise.all(targets.map((r) => waitOne(r, opts.readyTimeoutMs ?? 180_000)));
    },
    exited: () => exitedByThemselves().map((r) => ({ name: r.name, code: r.child?.exitCode ?? null })),
    async restartExited() {
      const exited = exitedByThemselves();
      // Every service of the one process has exited, and launching it once starts them all.
      for (const r of exited) launch(r);
      for (const r of exited) await waitServing(r.name);
      return exited.map((r) => r.name);
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
    const startingOf = (svc: ServiceEntry) =>
      (byService.get(svc.name) ?? []).slice(0, layout.get(svc.name)?.replicas ?? 1);
    if (oneProcess) {
      // The process starts them in dependency order itself; each is waited for as in the waves.
      for (const r of running.values()) launch(r);
      for (const wave of waves) await Promise.all(wave.map((svc) => waitServing(svc.name)));
    } else {
      for (const wave of waves) {
        for (const svc of wave) for (const r of startingOf(svc)) launch(r);
        await Promise.all(wave.map((svc) => waitServing(svc.name)));
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return platform;
}
