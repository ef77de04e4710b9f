import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const fixture = fileURLToPath(new URL("./test/idle-server-fixture.ts", import.meta.url));

/** How often the kernel has woken the process's main thread from sleep so far. */
function wakeUps(pid: number): number {
  const status = readFileSync(`/proc/${pid}/task/${pid}/status`, "utf8");
  return Number(/^voluntary_ctxt_switches:\s+(\d+)$/m.exec(status)?.[1]);
}

describe("an idle service process", () => {
  // A platform in separate processes is eight of these; each wake-up of a sleeping process costs this kind of
  // machine about 90 us of CPU, and prom-client's default event loop sampling alone woke each 100 times a second.
  it.runIf(existsSync("/proc/self/task"))("sleeps between the samples of its process metrics", async () => {
    const child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", fixture], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (chunk: Buffer) => {
          if (chunk.toString().includes("listening")) resolve();
        });
        child.on("exit", (code) => reject(new Error(`the server exited with ${code}`)));
      });
      const pid = child.pid ?? 0;
      await sleep(500);
      const before = wakeUps(pid);
      await sleep(3000);
      const perSecond = (wakeUps(pid) - before) / 3;
      expect(perSecond).toBeLessThan(30);
    } finally {
      child.kill("SIGKILL");
    }
  });
});
