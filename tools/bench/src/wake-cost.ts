// What this machine charges a process for being woken: the CPU a do-nothing HTTP/1.1 server (in a child process)
// spends per request when the requests come back to back, and when they come GAP_MS apart so that the server
// sleeps between them. Where a process woken from sleep pays far more per request than a busy one (caches gone
// cold; on a virtual machine, the hypervisor's part in each wake-up), every service that waits between purchases
// pays it for each message, query answer and call it is woken for: much of what a purchase costs at 1 in flight
// beyond its cost under load.
import { fork } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

const GAP_MS = 20;

export interface WakeCost {
  /** Server CPU per request, microseconds, with the requests back to back. */
  busyUs: number;
  /** The same with GAP_MS between one answer and the next request. */
  wokenUs: number;
  gapMs: number;
}

if (process.argv[2] === "serve") {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => res.end("ok"));
  });
  server.listen(0, "127.0.0.1", () => process.send?.((server.address() as AddressInfo).port));
  // Asked for it, answers with the CPU microseconds it has used so far.
  process.on("message", () => {
    const { user, system } = process.cpuUsage();
    process.send?.(user + system);
  });
  process.on("disconnect", () => process.exit(0));
}

/** Measures the server's CPU per request back to back and GAP_MS apart. */
export async function measureWakeCost(): Promise<WakeCost> {
  const child = fork(fileURLToPath(import.meta.url), ["serve"], { execArgv: [] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once("message", (m) => resolve(Number(m)));
      child.once("exit", (code) =>
        reject(new Error(`the wake-cost server exited (${code}) before listening`)),
      );
    });
    const serverCpu = () =>
      new Promise<number>((resolve) => {
        child.once("message", (m) => resolve(Number(m)));
        child.send("cpu");
      });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const call = () =>
      new Promise<void>((resolve, reject) => {
        http
          .get({ host: "127.0.0.1", port, agent, path: "/" }, (res) => {
            res.resume();
            res.on("end", resolve);
          })
          .on("error", reject);
      });
    const perRequest = async (n: number, gapMs: number) => {
      const before = await serverCpu();
      for (let i = 0; i < n; i++) {
        await call();
        if (gapMs > 0) await sleep(gapMs);
      }
      return ((await serverCpu()) - before) / n;
    };
    await perRequest(2000, 0); // warm-up: the server's code compiled, the connection open
    const busyUs = await perRequest(3000, 0);
    const wokenUs = await perRequest(250, GAP_MS);
    agent.destroy();
    return { busyUs, wokenUs, gapMs: GAP_MS };
  } finally {
    child.disconnect();
  }
}
