import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { PingService } from "@fintech/proto/fintech/platform/v1/bench_pb.js";
import type { OtlpReceiver, ReceivedSpan } from "@fintech/testing";
import { startOtlpReceiver, waitFor } from "@fintech/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { observeClientCalls } from "./client-metrics.js";
import { createLogger } from "./logger.js";
import type { PlatformServer } from "./server.js";
import { createServer } from "./server.js";
import type { Telemetry } from "./telemetry.js";
import { startTelemetry, tracing } from "./telemetry.js";
import { parseTraceparent } from "./trace-context.js";

type LogLine = Record<string, unknown>;

// Two services in this process, "front" calling "back" as services call each other (observeClientCalls on the
// transport), exporting to an OTLP receiver the way a deployment exports to its collector.
describe("telemetry", () => {
  const lines: LogLine[] = [];
  const logger = createLogger({
    name: "telemetry-test",
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) },
  });
  let receiver: OtlpReceiver;
  let telemetry: Telemetry;
  let back: PlatformServer;
  let front: PlatformServer;
  let frontUrl: string;
  let frontMetrics: string;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    telemetry = startTelemetry({
      serviceName: "telemetry-test",
      logger,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: "50" },
    });
    back = createServer({
      name: "back",
      logger,
      routes: (router) =>
        router.service(PingService, {
          ping(req) {
            logger.info("back handler");
            if (req.payload === "fail") throw new ConnectError("lost", Code.DataLoss);
            return { payload: `back:${req.payload}` };
          },
        }),
    });
    const backUrl = (await back.listen({ port: 0, host: "127.0.0.1" })).url;
    const toBack = createClient(
      PingService,
      createGrpcTransport({ baseUrl: backUrl, interceptors: [observeClientCalls] }),
    );
    front = createServer({
      name: "front",
      logger,
      metricsPort: 0,
      routes: (router) =>
        router.service(PingService, {
          async ping(req) {
            return { payload: (await toBack.ping(req)).payload };
          },
        }),
    });
    const at = await front.listen({ port: 0, host: "127.0.0.1" });
    frontUrl = at.url;
    frontMetrics = `${at.metricsUrl}/metrics`;
  });
  afterAll(async () => {
    await front?.close({ graceMs: 0 });
    await back?.close({ graceMs: 0 });
    await telemetry?.shutdown();
    await receiver?.close();
  });

  const callFront = (payload: string, traceparent: string) =>
    createClient(PingService, createGrpcTransport({ baseUrl: frontUrl })).ping(
      { payload },
      { headers: { traceparent } },
    );

  /** The spans of one trace, once `count` of them have arrived. */
  async function trace(traceId: string, count: number): Promise<ReceivedSpan[]> {
    await telemetry.flush();
    return waitFor(() => {
      const spans = receiver.spans.filter((s) => s.traceId === traceId);
      return spans.length >= count ? spans : undefined;
    });
  }

  async function clientCalls(code: string): Promise<number> {
    const text = await (await fetch(frontMetrics)).text();
    const line = text
      .split("\n")
      .find(
        (l) =>
          l.startsWith("rpc_client_requests_total{") &&
          l.includes('service="fintech.platform.v1.PingService"') &&
          l.includes('method="Ping"') &&
          l.includes(`code="${code}"`),
      );
    return line === undefined ? 0 : Number(line.split(" ").at(-1));
  }

  it("exports a call through two services as one trace: server, client and server span, parent to child", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const callerSpan = "00f067aa0ba902b7";
    const before = Date.now();
    const res = await callFront("hello", `00-${traceId}-${callerSpan}-01`);
    const after = Date.now();
    expect(res.payload).toBe("back:hello");

    const spans = await trace(traceId, 3);
    // Each span's start and end as the collector got them: within the call, the end after the start.
    for (const s of spans) {
      expect(s.startMs).toBeGreaterThanOrEqual(before - 1);
      expect(s.endMs).toBeGreaterThan(s.startMs);
      expect(s.endMs).toBeLessThanOrEqual(after + 1);
    }
    const frontServer = spans.find((s) => s.kind === "server" && s.parentSpanId === callerSpan);
    const client = spans.find((s) => s.kind === "client");
    const backServer = spans.find((s) => s.kind === "server" && s.parentSpanId === client?.spanId);
    expect(frontServer).toMatchObject({
      name: "fintech.platform.v1.PingService/Ping",
      service: "telemetry-test",
      attributes: {
        "rpc.system": "grpc",
        "rpc.service": "fintech.platform.v1.PingService",
        "rpc.method": "Ping",
      },
      status: "unset",
    });
    expect(client?.parentSpanId).toBe(frontServer?.spanId);
    expect(client?.attributes["rpc.grpc.status_code"]).toBe(0);
    expect(backServer).toBeDefined();
    expect(receiver.contentTypes.at(-1)).toBe("application/x-protobuf");

    // The back service's log line names the very span exported for its RPC.
    const line = lines.findLast((l) => l.msg === "back handler");
    expect(line).toMatchObject({ trace_id: traceId, span_id: backServer?.spanId });
  });

  it("marks a failed call's client span and the failing server's span as errors, and counts it by code", async () => {
    const before = { ok: await clientCalls("OK"), lost: await clientCalls("DataLoss") };
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    await expect(callFront("fail", `00-${traceId}-b7ad6b7169203331-01`)).rejects.toThrow();
    await callFront("fine", `00-${"1".repeat(32)}-b7ad6b7169203331-01`);

    const spans = await trace(traceId, 3);
    const client = spans.find((s) => s.kind === "client");
    const backServer = spans.find((s) => s.parentSpanId === client?.spanId);
    expect(client).toMatchObject({ status: "error", attributes: { "rpc.grpc.status_code": Code.DataLoss } });
    expect(backServer).toMatchObject({ kind: "server", status: "error" });

    expect(await clientCalls("DataLoss")).toBe(before.lost + 1);
    expect(await clientCalls("OK")).toBe(before.ok + 1);
    const text = await (await fetch(frontMetrics)).text();
    expect(text).toMatch(/rpc_client_duration_seconds_bucket\{[^}]*method="Ping"[^}]*code="DataLoss"/);
  });

  it("starts a trace when the caller sends none, with the ids the logs print", async () => {
    lines.length = 0;
    await callFront("new", "");
    const line = lines.find((l) => l.msg === "back handler");
    const traceId = String(line?.trace_id);
    expect(parseTraceparent(`00-${traceId}-${String(line?.span_id)}-01`)).toBeDefined();
    const spans = await trace(traceId, 3);
    expect(spans.find((s) => s.parentSpanId === "")?.kind).toBe("server");
  });
});

describe("startTelemetry", () => {
  const logger = createLogger({ name: "telemetry-test", level: "silent" });

  it("starts nothing without an endpoint, and when switched off", async () => {
    for (const env of [
      {},
      { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318", OTEL_SDK_DISABLED: "true" },
      { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318", OTEL_TRACES_EXPORTER: "none" },
    ]) {
      const telemetry = startTelemetry({ serviceName: "x", logger, env });
      expect(telemetry.exporting).toBe(false);
      expect(tracing()).toBe(false);
      await telemetry.shutdown();
    }
  });

  it("refuses a protocol it cannot speak, naming the variable", () => {
    expect(() =>
      startTelemetry({
        serviceName: "x",
        logger,
        env: { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" },
      }),
    ).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL/);
  });

  it("exports OTLP JSON when the protocol says http/json, under OTEL_SERVICE_NAME", async () => {
    const receiver = await startOtlpReceiver();
    const telemetry = startTelemetry({
      serviceName: "x",
      logger,
      env: {
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_SERVICE_NAME: "renamed",
      },
    });
    const server = createServer({
      name: "json",
      logger,
      routes: (router) => router.service(PingService, { ping: (req) => ({ payload: req.payload }) }),
    });
    try {
      const { url } = await server.listen({ port: 0, host: "127.0.0.1" });
      const before = Date.now();
      await createClient(PingService, createGrpcTransport({ baseUrl: url })).ping({ payload: "j" });
      const after = Date.now();
      await server.close({ graceMs: 0 });
      await telemetry.shutdown();
      expect(receiver.contentTypes).toEqual(["application/json"]);
      expect(receiver.spans).toEqual([
        expect.objectContaining({
          service: "renamed",
          kind: "server",
          name: "fintech.platform.v1.PingService/Ping",
        }),
      ]);
      const [span] = receiver.spans;
      expect(span?.startMs).toBeGreaterThanOrEqual(before - 1);
      expect(span?.endMs).toBeGreaterThan(span?.startMs ?? Number.POSITIVE_INFINITY);
      expect(span?.endMs).toBeLessThanOrEqual(after + 1);
      expect(tracing()).toBe(false);
    } finally {
      await server.close({ graceMs: 0 });
      await telemetry.shutdown();
      await receiver.close();
    }
  });
});
