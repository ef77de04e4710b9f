import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "@fintech/testing";

/**
 * A nats-server with JetStream of the test's own, on a free port with its own storage directory, that the test
 * may kill and start again on the same port and storage (the shared server must never be stopped).
 */
export interface OwnNatsServer {
  url: string;
  port: number;
  /** Starts the server (again), with extra command-line arguments, and waits until it accepts connections. */
  start(extraArgs?: string[]): Promise<void>;
  /** SIGKILLs the server and waits for it to be gone. */
  kill(): Promise<void>;
  /** Kills the server and removes its storage. */
  dispose(): Promise<void>;
}

export async function ownNatsServer(): Promise<OwnNatsServer> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "nats-own-"));
  let child: ChildProcess | undefined;
  const kill = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
    const exited = once(running, "exit");
    running.kill("SIGKILL");
    await exited;
  };
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    async start(extraArgs = []) {
      await kill();
      child = spawn("nats-server", ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", dir, ...extraArgs], {
        stdio: "ignore",
      });
      await waitFor(() => accepts(port), { timeoutMs: 10_000, intervalMs: 50 });
    },
    kill,
    async dispose() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.connect(port, "127.0.0.1");
  });
}
