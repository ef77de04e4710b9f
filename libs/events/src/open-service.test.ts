import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startOwnNats, test, waitFor } from "@fintech/testing";
import { describe, expect } from "vitest";

describe("openServiceInfra", () => {
  test("rides out a NATS restart, and exits 1 once the connection closes for good", async ({ pg }) => {
    const nats = await startOwnNats();
    const migrations = await mkdtemp(join(tmpdir(), "osc-migrations-"));
    const child = spawn(
      process.execPath,
      [
        "--conditions=source",
        "--import",
        "tsx",
        fileURLToPath(new URL("./test/open-service-child.ts", import.meta.url)),
      ],
      {
        env: {
          ...process.env,
          DATABASE_URL: pg.url,
          DB_SCHEMA: pg.schema,
          NATS_URL: nats.url,
          MIGRATIONS_DIR: migrations,
        },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    const exited = once(child, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    try {
      await waitFor(() => out.includes("ready\n"), { timeoutMs: 30_000 });

      await nats.kill();
      await waitFor(() => out.includes('"nats disconnected"'), { timeoutMs: 10_000 });
      await nats.start();
      await waitFor(() => out.includes('"nats reconnected"'), { timeoutMs: 15_000 });
      expect(child.exitCode).toBeNull();

      // The server comes back refusing this client: reconnecting cannot help, the client closes for good.
      await nats.start(["--user", "someone", "--pass", "else"]);
      const [code] = await exited;
      expect(code).toBe(1);
      expect(out).toContain("NATS connection closed for good");
    } finally {
      child.kill("SIGKILL");
      await nats.cleanup();
      await rm(migrations, { recursive: true, force: true });
    }
  });
});
