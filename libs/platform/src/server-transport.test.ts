import type { Interceptor } from "@connectrpc/connect";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { PingService } from "@fintech/proto/fintech/platform/v1/bench_pb.js";
import {
  Health,
  HealthCheckResponse_ServingStatus as Status,
} from "@fintech/proto/grpc/health/v1/health_pb.js";
import { describe, expect, it } from "vitest";
import { connectError, errorInfoOf } from "./errors.js";
import { createLogger } from "./logger.js";
import { getRequestId } from "./request-id.js";
import type { PlatformServer } from "./server.js";
import { createServer, MAX_REQUEST_BYTES } from "./server.js";
import { defineValidation } from "./validation.js";

type LogLine = Record<string, unknown>;

function unexpected(): never {
  throw new Error("expected the call to fail");
}

// A server as a service builds it: its own auth stand-in (a caller needs `authorization: Bearer ok`), its
// validation and its domain errors. Never listening: an in-process caller needs no port.
function pingServer(opts: { release?: Promise<void> } = {}): { server: PlatformServer; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = createLogger({
    name: "ping-inproc",
    level: "info",
    destination: { write: (line: string) => lines.push(JSON.parse(line) as LogLine) },
  });
  const auth: Interceptor = (next) => (req) => {
    if (req.header.get("authorization") !== "Bearer ok") {
      throw new ConnectError("no valid credential", Code.Unauthenticated);
    }
    return next(req);
  };
  const server = createServer({
    name: "ping-inproc",
    logger,
    mapError: (err) =>
      err instanceof Error && err.name === "Overdrawn"
        ? connectError(Code.FailedPrecondition, "INSUFFICIENT_BALANCE", "not enough money", {})
        : undefined,
    interceptors: [
      auth,
      defineValidation(PingService, {
        ping: (req) => (req.payload === "" ? [{ field: "payload", message: "is required" }] : []),
      }),
    ],
    routes: (router) =>
      router.service(PingService, {
        async ping(req, ctx) {
          if (req.payload === "overdraw") {
            const err = new Error("balance too low");
            err.name = "Overdrawn";
            throw err;
          }
          if (req.payload === "slow") await opts.release;
          return { payload: req.payload === "request-id" ? getRequestId(ctx) : req.payload };
        },
      }),
  });
  return { server, lines };
}

const withToken: Interceptor = (next) => (req) => {
  req.header.set("authorization", "Bearer ok");
  return next(req);
};

describe("server.transport()", () => {
  it("runs an in-process call through the server's own checks: auth, validation, error mapping", async () => {
    const { server, lines } = pingServer();
    try {
      const anonymous = createClient(PingService, server.transport());
      const refused = await anonymous
        .ping({ payload: "hi" })
        .then(unexpected, (e: unknown) => ConnectError.from(e));
      expect(refused.code).toBe(Code.Unauthenticated);

      const caller = createClient(PingService, server.transport({ interceptors: [withToken] }));
      expect((await caller.ping({ payload: "hi" })).payload).toBe("hi");

      const invalid = await caller
        .ping({ payload: "" })
        .then(unexpected, (e: unknown) => ConnectError.from(e));
      expect(invalid.code).toBe(Code.InvalidArgument);
      expect(errorInfoOf(invalid)?.reason).toBe("VALIDATION_ERROR");

      const domain = await caller
        .ping({ payload: "overdraw" })
        .then(unexpected, (e: unknown) => ConnectError.from(e));
      expect(domain.code).toBe(Code.FailedPrecondition);
      expect(errorInfoOf(domain)).toEqual({
        reason: "INSUFFICIENT_BALANCE",
        domain: "ping-inproc",
        metadata: {},
      });

      // The same request id and the same one log line per call as on the port.
      const id = await caller.ping({ payload: "request-id" }, { headers: { "x-request-id": "inproc-1" } });
      expect(id.payload).toBe("inproc-1");
      expect(lines.filter((l) => l.request_id === "inproc-1")).toEqual([
        expect.objectContaining({ msg: "rpc", method: "Ping", code: "OK" }),
      ]);
    } finally {
      await server.close({ graceMs: 100 });
    }
  });

  it("answers Health without the service's auth, and refuses messages the port would refuse", async () => {
    const { server } = pingServer();
    try {
      const health = createClient(Health, server.transport());
      expect((await health.check({ service: "" })).status).toBe(Status.SERVING);

      const caller = createClient(PingService, server.transport({ interceptors: [withToken] }));
      const err = await caller
        .ping({ payload: "x".repeat(MAX_REQUEST_BYTES) })
        .then(unexpected, (e: unknown) => ConnectError.from(e));
      expect(err.code).toBe(Code.ResourceExhausted);
    } finally {
      await server.close({ graceMs: 100 });
    }
  });

  it("lets a call under way finish when the server closes, then refuses new ones as Unavailable", async () => {
    let release = () => {};
    const { server } = pingServer({ release: new Promise<void>((r) => (release = r)) });
    const caller = createClient(PingService, server.transport({ interceptors: [withToken] }));
    const slow = caller.ping({ payload: "slow" });
    // Give the call time to reach the handler before the server starts closing.
    await caller.ping({ payload: "first" });
    let closed = false;
    const closing = server.close({ graceMs: 5_000 }).then(() => {
      closed = true;
    });
    const refused = await caller
      .ping({ payload: "late" })
      .then(unexpected, (e: unknown) => ConnectError.from(e));
    expect(refused.code).toBe(Code.Unavailable);
    expect(closed).toBe(false);
    release();
    expect((await slow).payload).toBe("slow");
    await closing;
    expect(closed).toBe(true);
  });
});
