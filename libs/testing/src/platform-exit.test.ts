import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { connect } from "@nats-io/transport-node";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { adminQuery } from "./admin-query.js";
import { deleteStreams } from "./provide-nats.js";
import { deleteKeys } from "./provide-redis.js";
import { testEnv } from "./test-env.js";
import { waitFor } from "./wait-for.js";

const fixture = fileURLToPath(new URL("./test/failing-platform-fixture.ts", import.meta.url));

/** Whether `pid` is a process still running (a zombie, dead but not yet reaped by its new parent, is not). */
function running(pid: number): boolean {
  if (existsSync("/proc")) {
    try {
      // The state follows the command's name in parentheses: "1234 (node) S ...".
      return !/\)\s+[ZX]\s/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Started {
  pid: number;
  databaseUrl: string;
  namespace: string;
  redisPrefix: string;
}

describe("a process that started a platform", () => {
  it("takes the platform's processes with it when it fails without stopping them", async () => {
    const env = testEnv();
    const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", fixture], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
    const line = await Promise.race([
      once(createInterface({ input: child.stdout }), "line").then(([l]) => String(l)),
      exited.then(() => {
        throw new Error(`the fixture exited before its platform served: ${stderr}`);
      }),
    ]);
    const started = JSON.parse(line) as Started;
    try {
      expect(running(started.pid)).toBe(true);
      child.stdin.write("fail\n");
      const [code] = await exited;
      expect(code, stderr).not.toBe(0);
      expect(stderr).toContain("the fixture fails with its platform still running");
      // SIGKILLed as the fixture exits; the wait is for the kernel and the process's new parent, not a timer.
      await waitFor(() => !running(started.pid), { timeoutMs: 10_000 });
    } finally {
      if (running(started.pid)) process.kill(started.pid, "SIGKILL");
      // What stop() would have removed.
      const database = new URL(started.databaseUrl).pathname.slice(1);
      await adminQuery(env.databaseUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      const nc = await connect({ servers: env.natsUrl });
      try {
        await deleteStreams(nc, `${started.namespace.toUpperCase()}_`);
      } finally {
        await nc.drain();
      }
      const redis = new Redis(env.redisUrl);
      try {
        await deleteKeys(redis, started.redisPrefix);
      } finally {
        redis.disconnect();
      }
    }
  }, 300_000);
});
