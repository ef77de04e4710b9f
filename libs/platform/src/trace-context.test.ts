import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { PingService } from "@fintech/proto/fintech/platform/v1/bench_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "./logger.js";
import { propagateTrace } from "./rpc-tracing.js";
import type { PlatformServer } from "./server.js";
import { createServer } from "./server.js";
import { currentSpan, formatTraceparent, parseTraceparent, runInSpan } from "./trace-context.js";

type LogLine = Record<string, unknown>;

describe("W3C trace context", () => {
  const lines: LogLine[] = [];
  const logger = createLogger({
    name: "trace-test",
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) },
  });
  let server: PlatformServer;
  let url: string;
  // What the handler saw as the current span, and what it logged.
  const seen: Array<string | undefined> = [];

  beforeAll(async () => {
    server = createServer({
      name: "trace-test",
      logger,
      routes: (router) =>
        router.service(PingService, {
          ping(req) {
            seen.push(currentSpan() && formatTraceparent(currentSpan() as never));
            logger.info({ payload_length: req.payload.length }, "handler line");
            return { payload: req.payload };
          },
        }),
    });
    ({ url } = await server.listen({ port: 0, host: "127.0.0.1" }));
  });
  afterAll(() => server.close({ graceMs: 0 }));

  it("parses only well-formed traceparent values", () => {
    expect(parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")).toMatchObject({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      traceFlags: 1,
    });
    for (const bad of [
      "",
      "garbage",
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      "00-4bf9-00f0-01",
    ]) {
      expect(parseTraceparent(bad)).toBeUndefined();
    }
  });

  it("continues the caller's trace in a new span, and every line of the RPC carries it", async () => {
    const client = createClient(PingService, createGrpcTransport({ baseUrl: url }));
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    await client.ping({ payload: "x" }, { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    const span = parseTraceparent(seen.at(-1));
    expect(span?.traceId).toBe(traceId);
    expect(span?.spanId).not.toBe("00f067aa0ba902b7");
    const rpcLines = lines.filter((l) => l.msg === "handler line" || l.msg === "rpc");
    expect(rpcLines.map((l) => l.trace_id)).toEqual([traceId, traceId]);
  });

  it("starts a trace when the caller has none, and a client passes the current one on", async () => {
    const client = createClient(
      PingService,
      createGrpcTransport({ baseUrl: url, interceptors: [propagateTrace] }),
    );
    await client.ping({ payload: "y" });
    const fresh = parseTraceparent(seen.at(-1));
    expect(fresh?.traceId).toMatch(/^[0-9a-f]{32}$/);

    const outer = { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", traceFlags: 1 };
    await runInSpan(outer, () => client.ping({ payload: "z" }));
    expect(parseTraceparent(seen.at(-1))?.traceId).toBe(outer.traceId);
  });
});
