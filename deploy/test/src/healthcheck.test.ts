// deploy/docker/healthcheck.mjs, compose's health probe, run as compose runs it (a node process, its exit code)
// against the platform's own gRPC bootstrap and a plain HTTP server.

import { execFile } from "node:child_process";
import type { Server } from "node:http";
import { createServer as createHttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createLogger, createServer } from "@fintech/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { root } from "./repo.js";

const probe = join(root, "deploy/docker/healthcheck.mjs");

/** Runs the probe with `args`; resolves to its exit code and stderr. */
function runProbe(...args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [probe, ...args], { timeout: 10_000 }, (err, _stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
      resolve({ code, stderr });
    });
  });
}

describe("grpc", () => {
  let ready = true;
  const server = createServer({
    name: "probe-target",
    routes: () => {},
    logger: createLogger({ name: "probe-target", level: "silent" }),
    readiness: async () => ready,
  });
  let port = 0;

  beforeAll(async () => {
    port = (await server.listen({ port: 0, host: "127.0.0.1" })).port;
  });
  afterAll(() => server.close({ graceMs: 0 }));

  it("exits 0 while grpc.health.v1 says SERVING", async () => {
    expect(await runProbe("grpc", String(port))).toEqual({ code: 0, stderr: "" });
  });

  it("exits 1 saying why when the server is NOT_SERVING", async () => {
    ready = false;
    try {
      const result = await runProbe("grpc", String(port));
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("status 2");
    } finally {
      ready = true;
    }
  });

  it("exits 1 when nothing listens, or the port speaks no gRPC", async () => {
    const closed = createHttpServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const freePort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    expect((await runProbe("grpc", String(freePort))).code).toBe(1);
    expect((await runProbe("grpc", "not-a-port")).code).toBe(1);
  });
});

describe("http", () => {
  let server: Server;
  let port = 0;

  beforeAll(async () => {
    server = createHttpServer((req, res) => {
      res.writeHead(req.url === "/ready" ? 200 : 503).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  it("exits 0 on a 2xx and 1 on anything else", async () => {
    expect((await runProbe("http", String(port), "/ready")).code).toBe(0);
    const down = await runProbe("http", String(port), "/health");
    expect(down.code).toBe(1);
    expect(down.stderr).toContain("answered 503");
  });
});
