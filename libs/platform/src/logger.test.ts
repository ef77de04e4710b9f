import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.js";

const killedFixture = fileURLToPath(new URL("./test/killed-logger-fixture.ts", import.meta.url));

function capture(level?: string) {
  const lines: string[] = [];
  const logger = createLogger({
    name: "wallet",
    level,
    destination: { write: (line: string) => lines.push(line) },
  });
  return { logger, lines };
}

describe("createLogger", () => {
  it("writes every line to stdout before the process can be killed", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", killedFixture, "500"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    const signal = await new Promise((resolve) => child.on("close", (_code, sig) => resolve(sig)));
    expect(signal).toBe("SIGKILL");
    const lines = stdout.split("\n").filter((l) => l !== "");
    expect(lines.map((l) => JSON.parse(l).i)).toEqual([...Array(500).keys()]);
  });

  it("writes JSON lines with the service name, an ISO time and a textual level", () => {
    const { logger, lines } = capture();
    logger.info({ wallet_id: "w1" }, "opened");
    const line = JSON.parse(lines[0] ?? "{}");
    expect(line).toMatchObject({ level: "info", service: "wallet", wallet_id: "w1", msg: "opened" });
    expect(new Date(line.time).toISOString()).toBe(line.time);
  });

  it("redacts secrets at the top level and a few levels down", () => {
    const { logger, lines } = capture();
    logger.info(
      {
        password: "p0",
        user: { email: "a@b.c", password: "p1", apiKey: "k1" },
        req: { headers: { authorization: "Bearer t1", "x-api-key": "k2", cookie: "c1" } },
        deep: { a: { b: { refresh_token: "r1" } } },
      },
      "login",
    );
    const text = lines.join("");
    for (const secret of ["p0", "p1", "k1", "Bearer t1", "k2", "c1", "r1"]) {
      expect(text).not.toContain(`"${secret}"`);
    }
    const line = JSON.parse(text);
    expect(line.user).toEqual({ email: "a@b.c", password: "[redacted]", apiKey: "[redacted]" });
    expect(line.req.headers.authorization).toBe("[redacted]");
    expect(line.deep.a.b.refresh_token).toBe("[redacted]");
  });

  it("redacts in child bindings and inside errors, without touching the caller's objects", () => {
    const { logger, lines } = capture();
    const err = Object.assign(new Error("upstream said no"), {
      config: { headers: { Authorization: "Bearer e1" } },
    });
    const fields = { err, request: { DB_PASSWORD: "p2", amount: "10.00" } };
    logger.child({ token: "s1" }).error(fields, "failed");
    const line = JSON.parse(lines[0] ?? "{}");
    expect(line.token).toBe("[redacted]");
    expect(line.request).toEqual({ DB_PASSWORD: "[redacted]", amount: "10.00" });
    expect(line.err).toMatchObject({ type: "Error", message: "upstream said no" });
    expect(line.err.stack).toContain("upstream said no");
    expect(line.err.config.headers.Authorization).toBe("[redacted]");
    expect(err.config.headers.Authorization).toBe("Bearer e1");
    expect(fields.request.DB_PASSWORD).toBe("p2");
  });

  it("honours the level", () => {
    const { logger, lines } = capture("warn");
    logger.info("hidden");
    logger.warn("shown");
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(["shown"]);
  });
});
