// Every service of the platform as its own process, as `./dev start` runs them, but on free ports, against
// the run's own servers, and with a handle to kill one (SIGKILL, no goodbye) and start it again.
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import type { WriteStream } from "node:fs";
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import type { DevService } from "@fintech/dev/services";
import { services } from "@fintech/dev/services";
import { Health, HealthCheckResponse_ServingStatus } from "@fintech/proto/grpc/health/v1/health_pb.js";
import { freePort } from "@fintech/testing/own-servers";

export interface PlatformOptions {
  root: string;
  logDir: string;
  databaseUrl: string;
  natsUrl: string;
  redisUrl: string;
  /** Extra variables for every service (shorter recovery intervals for a run that must end in minutes). */
  env?: Record<string, string>;
}

interface Running {
  svc: DevService;
  port: number;
  metricsPort: number;
  child: ChildProcess | undefined;
  log: WriteStream;
}

/** The name and secret the suite itself uses to call the ledger's integrity check as a service. */
export const CHAOS_CLIENT = "chaos";

export class Platform {
  readonly adminEmail = "chaos-admin@example.com";
  readonly adminPassword = `Chaos ${randomBytes(9).toString("base64url")} 1!`;
  readonly chaosSecret = randomBytes(24).toString("base64url");
  private readonly running = new Map<string, Running>();
  private readonly secrets = new Map(services.map((s) => [s.name, randomBytes(24).toString("base64url")]));

  constructor(private readonly opts: PlatformOptions) {}

  url(name: string): string {
    const r = this.running.get(name);
    if (r === undefined) throw new Error(`unknown service ${name}`);
    return `http://127.0.0.1:${r.port}`;
  }

  get gatewayUrl(): string {
    return this.url("gateway");
  }

  private env(r: Running): NodeJS.ProcessEnv {
    const urls = Object.fromEntries(
      [...this.running.values()].map((o) => [
        `${o.svc.name.toUpperCase()}_URL`,
        `http://127.0.0.1:${o.port}`,
      ]),
    );
    const credentials = [
      ...services.filter((s) => s.name !== "identity").map((s) => `${s.name}:${this.secrets.get(s.name)}`),
      `${CHAOS_CLIENT}:${this.chaosSecret}`,
    ].join(",");
    return {
      ...process.env,
      ...urls,
      ...this.opts.env,
      HOST: "127.0.0.1",
      PORT: String(r.port),
      METRICS_PORT: String(r.metricsPort),
      DATABASE_URL: this.opts.databaseUrl,
      NATS_URL: this.opts.natsUrl,
      REDIS_URL: this.opts.redisUrl,
      LOG_LEVEL: process.env.CHAOS_LOG_LEVEL ?? "info",
      ADMIN_EMAIL: this.adminEmail,
      ADMIN_PASSWORD: this.adminPassword,
      SERVICE_CREDENTIALS: credentials,
      SERVICE_CLIENT_SECRET: this.secrets.get(r.svc.name) ?? "",
    };
  }

  /** Starts every service (gRPC ones first, then the edge) and waits until each serves. */
  async start(): Promise<void> {
    for (const svc of services) {
      this.running.set(svc.name, {
        svc,
        port: await freePort(),
        metricsPort: await freePort(),
        child: undefined,
        log: createWriteStream(join(this.opts.logDir, `${svc.name}.log`), { flags: "a" }),
      });
    }
    for (const kind of ["grpc", "http"] as const) {
      const wave = [...this.running.values()].filter((r) => r.svc.kind === kind);
      for (const r of wave) this.spawn(r);
      await Promise.all(wave.map((r) => this.waitServing(r.svc.name)));
    }
  }

  private spawn(r: Running): void {
    const child = spawn(
      process.execPath,
      ["--conditions=source", "--import", "tsx", join(this.opts.root, r.svc.entry)],
      { cwd: this.opts.root, env: this.env(r), stdio: ["ignore", "pipe", "pipe"] },
    );
    child.stdout?.pipe(r.log, { end: false });
    child.stderr?.pipe(r.log, { end: false });
    r.child = child;
  }

  /** SIGKILL: the process gets no chance to finish what it was doing. */
  async kill(name: string): Promise<void> {
    const r = this.running.get(name);
    const child = r?.child;
    if (r === undefined || child === undefined) return;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    }
    r.child = undefined;
    r.log.write(`\n--- chaos: SIGKILL at ${new Date().toISOString()} ---\n`);
  }

  /** Starts a killed service again on the same ports and waits until it serves. */
  async restart(name: string): Promise<void> {
    const r = this.running.get(name);
    if (r === undefined) throw new Error(`unknown service ${name}`);
    if (r.child === undefined) this.spawn(r);
    await this.waitServing(name);
  }

  /** True when the service answers its readiness probe (grpc.health.v1, or the edge's /ready). */
  async serving(name: string): Promise<boolean> {
    const r = this.running.get(name);
    if (r === undefined) return false;
    try {
      if (r.svc.kind === "http") {
        return (await fetch(`${this.url(name)}/ready`, { signal: AbortSignal.timeout(2_000) })).ok;
      }
      const health = createClient(Health, createGrpcTransport({ baseUrl: this.url(name) }));
      const res = await health.check({ service: "" }, { timeoutMs: 2_000 });
      return res.status === HealthCheckResponse_ServingStatus.SERVING;
    } catch {
      return false;
    }
  }

  /** Waits until the service serves; throws with where its log is when it does not within the deadline. */
  async waitServing(name: string, timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const child = this.running.get(name)?.child;
      if (child !== undefined && child.exitCode !== null) {
        throw new Error(
          `${name} exited with ${child.exitCode}; see ${join(this.opts.logDir, `${name}.log`)}`,
        );
      }
      if (await this.serving(name)) return;
      await sleep(200);
    }
    throw new Error(
      `${name} did not serve within ${timeoutMs} ms; see ${join(this.opts.logDir, `${name}.log`)}`,
    );
  }

  /** Services that exited on their own (not killed by the suite), with their exit codes. */
  exited(): Array<{ name: string; code: number | null }> {
    return [...this.running.values()]
      .filter((r) => r.child !== undefined && (r.child.exitCode !== null || r.child.signalCode !== null))
      .map((r) => ({ name: r.svc.name, code: r.child?.exitCode ?? null }));
  }

  /** Starts again every service that exited by itself (what an orchestrator does), and waits for it. */
  async restartExited(): Promise<string[]> {
    const names = this.exited().map((e) => e.name);
    for (const name of names) {
      const r = this.running.get(name);
      if (r !== undefined) {
        r.child = undefined;
        this.spawn(r);
      }
    }
    for (const name of names) await this.waitServing(name);
    return names;
  }

  async stop(): Promise<void> {
    const children = [...this.running.values()].flatMap((r) => (r.child === undefined ? [] : [r.child]));
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(killer);
      }),
    );
    for (const r of this.running.values()) r.log.end();
  }
}
