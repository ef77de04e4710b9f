import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** The local SMTP sink `./dev start` runs when SMTP_URL is not set: maildev, with a web inbox. */
export interface MailSink {
  /** What the notifications service sends to. */
  smtpUrl: string;
  /** Where a person reads what was sent. */
  inboxUrl: string;
  stop(): Promise<void>;
}

/** The sink's ports unless MAILDEV_SMTP_PORT and MAILDEV_WEB_PORT say otherwise (maildev's own defaults). */
export const MAIL_SINK_PORTS = { smtp: 1025, web: 1080 } as const;

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(1_000);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * Starts maildev (a tools/dev dev dependency) as a child process bound to `host`, its output prefixed
 * `[maildev]`, and resolves once its SMTP and web ports accept connections at `reachable` (the address a client
 * on this machine uses). Ports: MAILDEV_SMTP_PORT (1025) and MAILDEV_WEB_PORT (1080). It keeps mail in memory
 * only: a restart starts with an empty inbox.
 */
export async function startMailSink(
  env: NodeJS.ProcessEnv,
  host: string,
  reachable: string,
  onExit: (code: number | null, signal: NodeJS.Signals | null) => void,
): Promise<MailSink> {
  const smtp = Number(env.MAILDEV_SMTP_PORT ?? MAIL_SINK_PORTS.smtp);
  const web = Number(env.MAILDEV_WEB_PORT ?? MAIL_SINK_PORTS.web);
  // The package exports only its API; its command (package.json "bin") sits beside it in the pinned version.
  const entry = join(dirname(fileURLToPath(import.meta.resolve("maildev"))), "bin", "maildev.js");
  const child: ChildProcess = spawn(
    process.execPath,
    [entry, "--smtp", String(smtp), "--web", String(web), "--ip", host, "--web-ip", host],
    { env, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) createInterface({ input: stream }).on("line", (line) => console.log(`[maildev] ${line}`));
  }
  let exited = false;
  child.once("exit", (code, signal) => {
    exited = true;
    onExit(code, signal);
  });
  const deadline = Date.now() + 20_000;
  // Its web server may come up after its SMTP server: the inbox URL is printed once both listen.
  while (!((await accepts(reachable, smtp)) && (await accepts(reachable, web)))) {
    if (exited || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`maildev did not listen on ${reachable}:${smtp} (SMTP) and ${reachable}:${web} (web)`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const at = reachable.includes(":") ? `[${reachable}]` : reachable;
  const url = (port: number, scheme: string) => `${scheme}://${at}:${port}`;
  return {
    smtpUrl: url(smtp, "smtp"),
    inboxUrl: url(web, "http"),
    async stop() {
      if (exited) return;
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await gone;
    },
  };
}
