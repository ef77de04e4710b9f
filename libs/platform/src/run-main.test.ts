import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { waitFor } from "@fintech/testing";
import { describe, expect, it } from "vitest";

const fixture = fileURLToPath(new URL("./test/run-main-fixture.ts", import.meta.url));

function run(mode: string) {
  const child = spawn(process.execPath, ["--import", "tsx", fixture, mode], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out = { stdout: "", stderr: "", code: undefined as number | null | undefined };
  child.stdout.on("data", (chunk: Buffer) => {
    out.stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    out.stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, out, exited };
}

const started = (out: { stdout: string }) => out.stdout.includes('"msg":"started"');

describe("runMain", () => {
  it("prints a ConfigError's message without a stack and exits 1", async () => {
    const { out, exited } = run("bad-config");
    expect(await exited).toBe(1);
    expect(out.stderr.trim()).toBe(
      'invalid configuration:\n  PORT: expected a port number 1-65535, got "abc"',
    );
  });

  it("prints any other start failure with its stack and exits 1", async () => {
    const { out, exited } = run("crash");
    expect(await exited).toBe(1);
    expect(out.stderr).toContain("cannot reach the database");
    expect(out.stderr).toContain("run-main-fixture.ts");
  });

  it("stops gracefully on SIGTERM and exits 0", async () => {
    const { child, out, exited } = run("serve");
    await waitFor(() => started(out), { timeoutMs: 15_000 });
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(out.stdout).toContain('"msg":"stopping"');
    expect(out.stdout).toContain('"msg":"stopped"');
  });

  it("exits 1 at once on a second signal while stopping", async () => {
    const { child, out, exited } = run("stuck");
    await waitFor(() => started(out), { timeoutMs: 15_000 });
    child.kill("SIGINT");
    await waitFor(() => out.stdout.includes('"msg":"stopping"'));
    child.kill("SIGINT");
    expect(await exited).toBe(1);
    expect(out.stdout).toContain("second signal");
  });
});
