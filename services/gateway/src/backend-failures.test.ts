import { spawn } from "node:child_process";
import { once } from "node:events";
import type { Http2Server, ServerHttp2Stream } from "node:http2";
import { constants, createServer as createHttp2Server } from "node:http2";
import { fileURLToPath } from "node:url";
import { Code } from "@connectrpc/connect";
import type { Authenticator } from "@fintech/auth";
import type { PlatformServer } from "@fintech/platform";
import { connectError, createServer } from "@fintech/platform";
import { FxService } from "@fintech/proto/fintech/fx/v1/fx_pb.js";
import { freePort as closedPort, recordLogs, test, waitFor } from "@fintech/testing";
import pino from "pino";
import { describe, expect } from "vitest";
import { createIdentityAuthenticator } from "./auth.js";
import { parseGatewayConfig } from "./config.js";
import { build } from "./server.js";
import type { ErrorBody } from "./test/harness.js";
import { checkAgainstSpec } from "./test/spec-check.js";

const PATH = "/api/v1/fx/currencies";
const TIMEOUT_MS = 500;

// Every caller is a user; what is under test is what happens behind the gateway.
const anyone: Authenticator = {
  authenticate: async () => ({ kind: "user", userId: "user-1", roles: ["user"], credential: "jwt" }),
};

/** The gateway in front of one fx backend at `fxUrl`, with a short backend deadline. */
async function gatewayFor(
  fxUrl: string,
  redis: { client: import("ioredis").Redis; prefix: string },
  identityUrl?: string,
  timeoutMs = TIMEOUT_MS,
) {
  const log = recordLogs("gateway");
  const config = {
    ...parseGatewayConfig({
      BACKENDS: "fx",
      FX_URL: fxUrl,
      BACKEND_TIMEOUT_MS: String(timeoutMs),
      RATE_LIMIT_PREFIX: redis.prefix,
      ...(identityUrl === undefined
        ? {}
        : { IDENTITY_URL: identityUrl, SERVICE_CLIENT_SECRET: "gateway-secret-for-tests-0123456789" }),
    }),
    METRICS_PORT: 0,
  };
  // With an identity URL, API keys are checked there as in production; otherwise every caller is let in.
  const authenticator =
    identityUrl === undefined ? anyone : createIdentityAuthenticator(config, { logger: log.logger });
  const app = build(config, { redis: redis.client, logger: log.logger, authenticator });
  const { url } = await app.start({ port: 0, host: "127.0.0.1" });
  return {
    logs: log.text,
    ready: () => checked("/ready", fetch(`${url}/ready`)),
    withApiKey: () => checked(PATH, fetch(`${url}${PATH}`, { headers: { "x-api-key": "fk_some_key" } })),
    get: () => checked(PATH, fetch(`${url}${PATH}`, { headers: { authorization: "Bearer x" } })),
    stop: () => app.stop(),
  };
}

// Every answer matches the OpenAPI document (see test/spec-check.ts).
async function checked(path: string, answer: Promise<Response>): Promise<Response> {
  const res = await answer;
  await checkAgainstSpec("GET", path, res);
  return res;
}

async function expectUnavailable(res: Response, what: string): Promise<void> {
  expect(res.status, what).toBe(503);
  expect(res.headers.get("retry-after"), what).toMatch(/^\d+$/);
  const body = (await res.json()) as ErrorBody;
  expect(body.error, what).toBe("UNAVAILABLE");
  expect(body.message, what).not.toMatch(/127\.0\.0\.1|ECONN|http\/2|stream/);
}

describe("a backend that fails under a request: retry (503/504), never a 4xx", () => {
  test("a backend process SIGKILLed mid-request is 503 with Retry-After", async ({ redis }) => {
    const child = spawn(
      process.execPath,
      [
        "--conditions=source",
        "--import",
        "tsx",
        fileURLToPath(new URL("./test/dying-backend.ts", import.meta.url)),
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const exited = once(child, "exit");
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    try {
      const port = await waitFor(() => /port (\d+)/.exec(out)?.[1], { timeoutMs: 20_000 });
      // A deadline far beyond the kill: the answer must come from the dying connection, not from a timeout.
      const gw = await gatewayFor(`http://127.0.0.1:${port}`, redis, undefined, 25_000);
      try {
        const answer = gw.get();
        await waitFor(() => out.includes("handling"), { timeoutMs: 10_000 });
        child.kill("SIGKILL");
        await expectUnavailable(await answer, "killed");
        // Afterwards nothing listens there: refused is the same answer.
        await exited;
        await expectUnavailable(await gw.get(), "refused after the kill");
      } finally {
        await gw.stop();
      }
    } finally {
      child.kill("SIGKILL");
    }
  });

  test("reset, cancelled, refused and internal-error HTTP/2 streams and a closed port are 503", async ({
    redis,
  }) => {
    let fail: (stream: ServerHttp2Stream) => void = () => {};
    const peer: Http2Server = createHttp2Server();
    peer.on("stream", (stream) => {
      // The peer's own side of a stream it resets errors too; only the gateway's answer matters here.
      stream.on("error", () => {});
      fail(stream);
    });
    peer.on("sessionError", () => {});
    await new Promise<void>((resolve) => peer.listen(0, "127.0.0.1", resolve));
    const address = peer.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    const gw = await gatewayFor(`http://127.0.0.1:${address.port}`, redis);
    const refused = await gatewayFor(`http://127.0.0.1:${await closedPort()}`, redis);
    // identity behind the same misbehaving peer: an API key check that gets no answer.
    const keyed = await gatewayFor(
      `http://127.0.0.1:${await closedPort()}`,
      redis,
      `http://127.0.0.1:${address.port}`,
    );
    try {
      const failures: Record<string, (stream: ServerHttp2Stream) => void> = {
        // What the client sees of a peer that dies: its socket goes away under the open stream.
        "connection reset": (stream) => stream.session?.socket.destroy(),
        "stream cancelled by the peer": (stream) => stream.close(constants.NGHTTP2_CANCEL),
        "stream refused (GOAWAY)": (stream) => stream.close(constants.NGHTTP2_REFUSED_STREAM),
        "stream reset with INTERNAL_ERROR": (stream) => stream.close(constants.NGHTTP2_INTERNAL_ERROR),
        "session closed with GOAWAY": (stream) =>
          stream.session?.destroy(undefined, constants.NGHTTP2_NO_ERROR),
      };
      for (const [what, behaviour] of Object.entries(failures)) {
        fail = behaviour;
        await expectUnavailable(await gw.get(), what);
        await expectUnavailable(await keyed.withApiKey(), `API key check: ${what}`);
      }
      await expectUnavailable(await refused.get(), "connection refused");
      const ready = await refused.ready();
      expect(ready.status).toBe(503);
      expect(ready.headers.get("retry-after")).toMatch(/^\d+$/);
      expect(gw.logs()).toContain("backend call got no answer");
    } finally {
      await gw.stop();
      await refused.stop();
      await keyed.stop();
      peer.close();
    }
  });

  test("a backend past the deadline is 504 TIMEOUT; deliberate answers keep their status", async ({
    redis,
  }) => {
    let behaviour: "hang" | "unavailable" | "conflict" | "bug" = "hang";
    const backend: PlatformServer = createServer({
      name: "fx",
      logger: pino({ level: "silent" }),
      routes: (router) =>
        router.service(FxService, {
          async listCurrencies() {
            switch (behaviour) {
              case "hang":
                return new Promise(() => {});
              case "unavailable":
                // A database that refuses connections, as the error mapping sees it.
                throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), {
                  code: "ECONNREFUSED",
                });
              case "conflict":
                throw connectError(Code.Aborted, "CONFLICT", "changed under you");
              case "bug":
                throw new TypeError("undefined is not a function");
            }
          },
        }),
    });
    const { url } = await backend.listen({ host: "127.0.0.1", port: 0 });
    const gw = await gatewayFor(url, redis);
    try {
      const started = performance.now();
      const timedOut = await gw.get();
      expect(timedOut.status).toBe(504);
      expect(((await timedOut.json()) as ErrorBody).error).toBe("TIMEOUT");
      expect(performance.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);

      behaviour = "unavailable";
      await expectUnavailable(await gw.get(), "database unavailable behind the backend");

      behaviour = "conflict";
      const conflict = await gw.get();
      expect(conflict.status).toBe(409);
      expect(((await conflict.json()) as ErrorBody).error).toBe("CONFLICT");

      behaviour = "bug";
      const bug = await gw.get();
      expect(bug.status).toBe(500);
      expect(((await bug.json()) as ErrorBody).error).toBe("INTERNAL");
    } finally {
      await gw.stop();
      await backend.close({ graceMs: 0 });
    }
  });
});
