// Starts every service of the platform on this machine as child processes (or, with --one-process, all of
// them in this process: see one-process.ts), waits until each answers its gRPC health check with SERVING,
// prints where they listen, and stops them all on Ctrl-C. Unless SMTP_URL names a mail server, it first starts a
// local SMTP sink with a web inbox (maildev) and points the platform's e-mail at it.

import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus } from "@fintech/proto/grpc/health/v1/health_pb.js";
import type { MailSink } from "./mail-sink.js";
import { startMailSink } from "./mail-sink.js";
import type { OneProcessPlatform, PlatformService } from "./one-process.js";
import { startOneProcess } from "./one-process.js";
import { DEFAULT_DEV_HOST, reachableHost, serviceEnv } from "./service-env.js";
import type { DevService } from "./services.js";
import { DEV_ADMIN_EMAIL, services } from "./services.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const readyTimeoutMs = Number(process.env.DEV_READY_TIMEOUT_MS ?? 60_000);
const children = new Map<string, ChildProcess>();
/** Every service in this process instead of one process each (`./dev start --one-process`). */
const oneProcess = process.argv.includes("--one-process");
let inProcess: Promise<OneProcessPlatform> | undefined;
let mailSink: MailSink | undefined;
let stopping = false;

// Each service calls others as itself with a secret identity knows; for a local run they are made
// afresh at every start unless the environment sets SERVICE_CREDENTIALS itself.
const secrets = new Map(services.map((svc) => [svc.name, randomBytes(24).toString("base64url")]));
const serviceCredentials =
  process.env.SERVICE_CREDENTIALS ??
  services
    .filter((svc) => svc.name !== "identity")
    .map((svc) => `${svc.name}:${secrets.get(svc.name)}`)
    .join(",");

// A local admin for the demo and the tour, unless the environment names one: created once by identity,
// with a random password kept in .data/ (git-ignored) so later starts and `./dev demo` reuse it.
if (process.env.ADMIN_EMAIL === undefined) {
  const file = join(root, ".data", "dev-admin-password");
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${randomBytes(18).toString("base64url")}\n`, { mode: 0o600 });
  }
  process.env.ADMIN_EMAIL = DEV_ADMIN_EMAIL;
  process.env.ADMIN_PASSWORD = readFileSync(file, "utf8").trim();
}

// The key notifications signs its audit checkpoints with, unless the environment gives one: made once and kept
// in .data/ beside the admin's password, so the checkpoints of earlier starts still verify as trusted.
if (process.env.AUDIT_SIGNING_KEY === undefined) {
  const file = join(root, ".data", "dev-audit-signing-key");
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600 });
  }
  process.env.AUDIT_SIGNING_KEY = readFileSync(file, "utf8").trim();
}

// Webhook receivers under development listen on this machine, over http: notifications sends to them unless the
// environment says otherwise (in production both stay false: https only, no internal addresses).
process.env.WEBHOOK_ALLOW_HTTP ??= "true";
process.env.WEBHOOK_ALLOW_PRIVATE_TARGETS ??= "true";

/** The environment a service is started with, in its own process or in this one. */
function launchEnv(svc: DevService): NodeJS.ProcessEnv {
  const env = serviceEnv(svc, process.env);
  if (svc.name === "identity") env.SERVICE_CREDENTIALS = serviceCredentials;
  else env.SERVICE_CLIENT_SECRET ??= secrets.get(svc.name);
  return env;
}

function start(svc: DevService): ChildProcess {
  const env = launchEnv(svc);
  const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", join(root, svc.entry)], {
    cwd: root,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group: a terminal's Ctrl-C reaches only the launcher, which then stops each
    // service once, gracefully, instead of every service seeing two signals and exiting at once.
    detached: true,
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on("line", (line) => console.log(`[${svc.name}] ${line}`));
  }
  child.on("exit", (code, signal) => {
    children.delete(svc.name);
    if (!stopping) {
      console.error(`[${svc.name}] exited (${signal ?? code}); stopping the platform`);
      void stop(1);
    }
  });
  children.set(svc.name, child);
  return child;
}

function probe(svc: DevService, port: number): () => Promise<boolean> {
  const baseUrl = `http://${addressOf(svc)}:${port}`;
  if (svc.kind === "http") {
    return async () => (await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(1_000) })).ok;
  }
  const health = createClient(Health, createGrpcTransport({ baseUrl }));
  return async () =>
    (await health.check({ service: "" }, { timeoutMs: 1_000 })).status ===
    HealthCheckResponse_ServingStatus.SERVING;
}

async function waitServing(svc: DevService, port: number): Promise<void> {
  const ready = probe(svc, port);
  const deadline = Date.now() + readyTimeoutMs;
  while (Date.now() < deadline) {
    if (stopping) return;
    try {
      if (await ready()) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${svc.name} was not ready on port ${port} within ${readyTimeoutMs} ms`);
}

async function stop(code: number): Promise<void> {
  if (stopping) {
    // A second Ctrl-C: do not wait for the graceful stop any longer.
    if (oneProcess) process.exit(1);
    return;
  }
  stopping = true;
  await mailSink?.stop();
  if (inProcess !== undefined) {
    const platform = await inProcess.catch(() => undefined);
    await platform?.stop().catch((err: unknown) => {
      console.error(err);
      code = 1;
    });
    process.exit(code);
  }
  const exits = [...children.values()].map((c) => new Promise((r) => c.once("exit", r)));
  for (const c of children.values()) c.kill("SIGTERM");
  await Promise.all(exits);
  process.exit(code);
}

process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));

const portOf = (svc: DevService) => Number(serviceEnv(svc, process.env).PORT);
const addressOf = (svc: DevService) => {
  const reachable = reachableHost(serviceEnv(svc, process.env).HOST ?? "");
  return reachable.includes(":") ? `[${reachable}]` : reachable;
};
// E-mail goes to SMTP_URL when it is set; otherwise to a local sink whose web inbox shows every mail sent.
// Without the sink (its port taken, say) mail waits in the notifications service's queue.
const smtpUrlGiven = process.env.SMTP_URL !== undefined;
if (!smtpUrlGiven) {
  const host = process.env.HOST || DEFAULT_DEV_HOST;
  try {
    mailSink = await startMailSink(process.env, host, reachableHost(host), (code, signal) => {
      if (!stopping)
        console.error(`[maildev] exited (${signal ?? code}); e-mail waits in the queue meanwhile`);
    });
    process.env.SMTP_URL = mailSink.smtpUrl;
  } catch (err) {
    console.error(`[maildev] ${err instanceof Error ? err.message : err}; set SMTP_URL or MAILDEV_SMTP_PORT`);
  }
}
try {
  if (oneProcess) {
    const envs = Object.fromEntries(services.map((svc) => [svc.name, launchEnv(svc)]));
    inProcess = startOneProcess(envs as Record<PlatformService, NodeJS.ProcessEnv>);
    await inProcess;
    await Promise.all(services.map((svc) => waitServing(svc, portOf(svc))));
  } else {
    // The gRPC services first; the HTTP edge needs them (JWKS, backends) once they serve.
    for (const kind of ["grpc", "http"] as const) {
      const wave = services.filter((svc) => svc.kind === kind);
      for (const svc of wave) start(svc);
      await Promise.all(wave.map((svc) => waitServing(svc, portOf(svc))));
    }
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  await stop(1);
}
console.log(`\nThe platform is up${oneProcess ? ", every service in this one process" : ""}:`);
for (const svc of services) {
  console.log(
    `  ${svc.name.padEnd(10)} ${svc.kind === "http" ? "http" : "grpc"}://${addressOf(svc)}:${portOf(svc)}`,
  );
}
const edge = services.find((svc) => svc.kind === "http");
if (edge) {
  console.log(`\n  REST API   http://${addressOf(edge)}:${portOf(edge)}/api/v1`);
  console.log(`  API docs   http://${addressOf(edge)}:${portOf(edge)}/docs`);
}
if (mailSink !== undefined) {
  console.log(
    `  mail inbox ${mailSink.inboxUrl} (every e-mail the platform sends; SMTP ${mailSink.smtpUrl})`,
  );
} else if (smtpUrlGiven) {
  // Only that it is set: the URL may hold a password.
  console.log("  mail       sent to the server SMTP_URL names");
}
if (process.env.ADMIN_EMAIL === DEV_ADMIN_EMAIL) {
  console.log(`\n  admin      ${DEV_ADMIN_EMAIL} (password in .data/dev-admin-password)`);
}
console.log("\nSeed demo data and get a tour: ./dev demo\nPress Ctrl-C to stop.\n");
