import { once } from "node:events";
import type { Interceptor } from "@connectrpc/connect";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { PingService } from "@fintech/proto/fintech/platform/v1/bench_pb.js";
import { grpcClient, unary } from "@fintech/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ABORTED_WITHOUT_REASON } from "./abort-reason.js";
import { createLogger } from "./logger.js";
import type { PlatformServer } from "./server.js";
import { createServer } from "./server.js";
import { createServiceTransport } from "./service-transport.js";

describe("aborts without a reason, once a server or a service transport exists", () => {
  let server: PlatformServer;
  let url: string;
  let port: number;
  // The signal of each call the server handled, and the reason its waiting call saw.
  const handled: AbortSignal[] = [];
  let waited: Promise<unknown> | undefined;

  beforeAll(async () => {
    server = createServer({
      name: "aborts",
      logger: createLogger({ name: "aborts", level: "silent" }),
      reflection: false,
      routes: (router) =>
        router.service(PingService, {
          async ping(req, ctx) {
            handled.push(ctx.signal);
            if (req.payload === "wait") {
              waited = once(ctx.signal, "abort").then(() => ctx.signal.reason);
              await waited;
            }
            return { payload: req.payload };
          },
        }),
    });
    ({ url, port } = await server.listen({ host: "127.0.0.1", port: 0 }));
  });

  afterAll(async () => {
    await server?.close({ graceMs: 100 });
  });

  beforeEach(() => {
    handled.length = 0;
  });

  it("give the signal one AbortError, Node's kind, name and message, and keep a reason that is given", () => {
    const first = new AbortController();
    const second = new AbortController();
    first.abort();
    second.abort(undefined);
    expect(first.signal.reason).toBeInstanceOf(DOMException);
    expect(first.signal.reason).toMatchObject({ name: "AbortError", message: "This operation was aborted" });
    expect(second.signal.reason).toBe(first.signal.reason);
    expect(ConnectError.from(first.signal.reason).code).toBe(Code.Canceled);

    const given = new Error("stopped");
    const third = new AbortController();
    third.abort(given);
    expect(third.signal.reason).toBe(given);
  });

  it("is what ends a finished call's signals, the server's for every protocol and the client's", async () => {
    const seen: AbortSignal[] = [];
    const remember: Interceptor = (next) => (req) => {
      seen.push(req.signal);
      return next(req);
    };
    const client = createClient(PingService, createServiceTransport(url, { interceptors: [remember] }));
    expect((await client.ping({ payload: "connect" })).payload).toBe("connect");
    const grpc = grpcClient(port);
    try {
      expect((await unary(grpc, PingService.method.ping, { payload: "grpc" })).message.payload).toBe("grpc");
    } finally {
      grpc.close();
    }
    await expect.poll(() => handled.every((s) => s.aborted) && seen.every((s) => s.aborted)).toBe(true);
    expect(handled).toHaveLength(2);
    expect(seen).toHaveLength(1);
    for (const signal of [...handled, ...seen]) expect(signal.reason).toBe(ABORTED_WITHOUT_REASON);
  });

  it("leaves a call the client cancels Canceled on both sides", async () => {
    const client = createClient(PingService, createServiceTransport(url));
    const cancel = new AbortController();
    const call = client.ping({ payload: "wait" }, { signal: cancel.signal });
    await expect.poll(() => handled.length).toBe(1);
    cancel.abort();
    const err = await call.catch((e: unknown) => ConnectError.from(e));
    expect(err).toMatchObject({ code: Code.Canceled });
    expect(ConnectError.from(await waited).code).toBe(Code.Canceled);
  });
});
