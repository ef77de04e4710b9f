import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { freePorts } from "./own-servers.js";
import { waitFor } from "./wait-for.js";

// The whole platform as it runs in production: every service's main.ts in its own process, started by
// tools/dev's launcher (migrations, service credentials, the admin, health waits), in a database of its own,
// on free ports, with this file's NATS namespace and Redis prefix. For tests that must see every backend
// behind the gateway at once.

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const launcher = join(root, "tools", "dev", "src", "main.ts");
const SERVICES = ["identity", "wallet", "ledger", "fraud", "fx", "analytics", "gateway"] as const;
/** Services that are backends of others, by the URL variable they are found at. */
const URL_VARS = {
  identity: "IDENTITY_URL",
  wallet: "WALLET_URL",
  ledger: "LEDGER_URL",
  fraud: "FRAUD_URL",
  fx: "FX_URL",
  analytics: "ANALYTICS_URL",
} as const;

export const PLATFORM_ADMIN_EMAIL = "fuzz-admin@example.com";

export interface PlatformProcesses {
  /** The gateway's base URL. */
  url: string;
  /** The admin's password (ADMIN_EMAIL is {@link PLATFORM_ADMIN_EMAIL}). */
  adminPassword: string;
  /** Every line every service has written so far (prefixed "[service]" by the launcher). */
  logs(): string;
  /** Stops every service (SIGTERM, as Ctrl-C would) and drops the database. */
  stop(): Promise<void>;
}

/**
 * Starts the platform and resolves once every service serves (the launcher says so), or rejects with the
 * logs when it does not within `startTimeoutMs` (default 180 s: seven processes compile their TypeScript
 * on a shared 2-core machine).
 */
export async function startPlatform(opts: {
  /** A Postgres server URL; a database of its own is created beside the URL's. */
  databaseUrl: string;
  natsUrl: string;
  redisUrl: string;
  /** NATS subject/stream namespace (the file's). */
  namespace: string;
  /** Redis key prefix (the file's). */
  redisPrefix: string;
  env?: Record<string, string>;
  startTimeoutMs?: number;
}): Promise<PlatformProcesses> {
  const database = `platform_${randomBytes(4).toString("hex")}`;
  await adminQuery(opts.databaseUrl, `CREATE DATABASE ${database}`);
  const databaseUrl = new URL(opts.databaseUrl);
  databaseUrl.pathname = `/${database}`;
  const adminPassword = `Admin ${randomBytes(9).toString("base64url")} 42`;

  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    DATABASE_URL: databaseUrl.toString(),
    NATS_URL: opts.natsUrl,
    REDIS_URL: opts.redisUrl,
    EVENTS_NAMESPACE: opts.namespace,
    REDIS_PREFIX: `${opts.redisPrefix}svc:`,
    RATE_LIMIT_PREFIX: `${opts.redisPrefix}rl:`,
    DEV_HOST: "127.0.0.1",
    HOST: "127.0.0.1",
    LOG_LEVEL: "info",
    ADMIN_EMAIL: PLATFORM_ADMIN_EMAIL,
    ADMIN_PASSWORD: adminPassword,
  };
  const ports = await freePorts(SERVICES.length * 2);
  SERVICES.forEach((name, i) => {
    const port = ports[2 * i] ?? 0;
    env[`${name.toUpperCase()}_PORT`] = String(port);
    env[`${name.toUpperCase()}_METRICS_PORT`] = String(ports[2 * i + 1] ?? 0);
    if (name !== "gateway") env[URL_VARS[name]] = `http://127.0.0.1:${port}`;
  });
  Object.assign(env, opts.env);
  const gatewayUrl = `http://127.0.0.1:${env.GATEWAY_PORT}`;

  const lines: string[] = [];
  const child: ChildProcess = spawn(process.execPath, ["--conditions=source", "--import", "tsx", launcher], {
    cwd: root,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (chunk: Buffer) => lines.push(chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => lines.push(chunk.toString()));
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
    }),
  );
  const logs = () => lines.join("");

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (!exited) {
        child.kill("SIGTERM");
        const killed = setTimeout(() => child.kill("SIGKILL"), 30_000);
        await exit;
        clearTimeout(killed);
      }
      await adminQuery(opts.databaseUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    })();
    return stopped;
  };

  try {
    await waitFor(
      () => {
        if (exited) throw new Error(`the platform exited while starting:\n${logs()}`);
        return logs().includes("The platform is up");
      },
      { timeoutMs: opts.startTimeoutMs ?? 180_000, intervalMs: 250 },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: gatewayUrl, adminPassword, logs, stop };
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
