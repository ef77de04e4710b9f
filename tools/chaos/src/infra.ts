// The servers a fault run owns: its own NATS (JetStream on a store directory of its own) and Redis on free
// ports, and its own database on the machine's Postgres reached through a TCP proxy the suite can cut.
// Stopping these never touches the shared servers other work uses.
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import type { Server, Socket } from "node:net";
import { createServer, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";

/** A port nothing listens on right now (the kernel's pick). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: "127.0.0.1", port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

async function untilListening(port: number, what: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    if (await accepts(port)) return;
    await sleep(50);
  }
  throw new Error(`${what} did not listen on ${port} within 20 s`);
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(killer);
}

/** A server binary run in the foreground on one port that can be stopped and started again on it. */
class OwnServer {
  private child: ChildProcess | undefined;
  constructor(
    readonly what: string,
    readonly port: number,
    private readonly command: string,
    private readonly args: string[],
  ) {}

  async start(): Promise<void> {
    const child = spawn(this.command, this.args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2_000);
    });
    child.on("error", (err) => {
      stderr += String(err);
    });
    this.child = child;
    try {
      await untilListening(this.port, this.what, child);
    } catch (err) {
      throw new Error(`${(err as Error).message}: ${stderr}`);
    }
  }

  async stop(): Promise<void> {
    await stopChild(this.child);
    this.child = undefined;
  }
}

/** NATS with JetStream on a free port; its store directory survives a stop, as a real server's disk does. */
export async function startNats(): Promise<OwnServer & { url: string; cleanup(): Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "chaos-nats-"));
  const server = new OwnServer("nats-server", port, "nats-server", [
    "-a",
    "127.0.0.1",
    "-p",
    String(port),
    "-js",
    "-sd",
    dir,
  ]);
  await server.start();
  return Object.assign(server, {
    url: `nats://127.0.0.1:${port}`,
    async cleanup() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

/** Redis without persistence on a free port: a restart comes back empty, as a cache node's does. */
export async function startRedis(): Promise<OwnServer & { url: string }> {
  const port = await freePort();
  const server = new OwnServer("redis-server", port, "redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
  ]);
  await server.start();
  return Object.assign(server, { url: `redis://127.0.0.1:${port}` });
}

/**
 * A TCP proxy in front of Postgres: `cut()` drops every open connection and refuses new ones until
 * `restore()`, which is what a database failover or a network partition looks like to the services.
 */
export class PgProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  async restore(): Promise<void> {
    if (this.server !== undefined) return;
    const server = createServer((client) => {
      const upstream = tcpConnect(this.target);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on("close", () => this.sockets.delete(s));
        s.on("error", () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", resolve);
    });
    this.server = server;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server !== undefined) await new Promise((resolve) => server.close(resolve));
  }
}

/** A database of the run's own on the machine's Postgres, dropped by `cleanup()`. */
export async function createDatabase(adminUrl: string): Promise<{
  name: string;
  url(via?: { port: number }): string;
  /** Ends every session on the run's database (as an administrator's pg_terminate_backend does). */
  terminateSessions(): Promise<number>;
  cleanup(): Promise<void>;
}> {
  const name = `chaos_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const base = new URL(adminUrl);
  return {
    name,
    url(via) {
      const u = new URL(base);
      u.pathname = `/${name}`;
      if (via !== undefined) {
        u.hostname = "127.0.0.1";
        u.port = String(via.port);
      }
      return u.toString();
    },
    async terminateSessions() {
      const { rowCount } = await admin.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        [name],
      );
      return rowCount ?? 0;
    },
    async cleanup() {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}
