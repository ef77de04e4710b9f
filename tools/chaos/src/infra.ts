// The Postgres side of what a fault run owns: its own database on the machine's Postgres, reached through a
// TCP proxy the suite can cut. (Its own NATS and Redis come from @fintech/testing's startOwnNats/startOwnRedis.)
// Cutting or dropping these never touches the shared servers other work uses.
import { randomBytes } from "node:crypto";
import type { Server, Socket } from "node:net";
import { createServer, connect as tcpConnect } from "node:net";
import pg from "pg";

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
