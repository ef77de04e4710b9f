import type { DescFile } from "@bufbuild/protobuf";
import { create, createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type { Interceptor, Transport } from "@connectrpc/connect";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { file_fintech_fx_v1_fx } from "@fintech/proto/fintech/fx/v1/fx_pb.js";
import { PingService } from "@fintech/proto/fintech/platform/v1/bench_pb.js";
import { BadRequestSchema } from "@fintech/proto/google/rpc/error_details_pb.js";
import {
  Health,
  HealthCheckResponse_ServingStatus as Status,
} from "@fintech/proto/grpc/health/v1/health_pb.js";
import { ServerReflection } from "@fintech/proto/grpc/reflection/v1/reflection_pb.js";
import { bidiAll, collect, grpcClient, serverStream, unary, waitFor } from "@fintech/testing";
import type { Client, ServiceError } from "@grpc/grpc-js";
import { status as grpcStatus } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectError, errorInfoOf } from "./errors.js";
import { createLogger } from "./logger.js";
import { getRequestId } from "./request-id.js";
import type { PlatformServer } from "./server.js";
import { createServer, MAX_REQUEST_BYTES } from "./server.js";
import { defineValidation } from "./validation.js";

type LogLine = Record<string, unknown>;

function captureLogger(name: string) {
  const lines: LogLine[] = [];
  const raw: string[] = [];
  const logger = createLogger({
    name,
    level: "debug",
    destination: {
      write(line: string) {
        raw.push(line);
        lines.push(JSON.parse(line) as LogLine);
      },
    },
  });
  return { logger, lines, raw };
}

class InsufficientFunds extends Error {
  override name = "InsufficientFunds";
}

function unexpected(): never {
  throw new Error("expected the call to fail");
}

const SECRET_IN_ERROR = "db password hunter2 at 10.1.2.3";

describe("createServer", () => {
  const { logger, lines, raw } = captureLogger("ping-test");
  let ready = true;
  let server: PlatformServer;
  let url: string;
  let metricsUrl: string;
  let grpc: Client;
  let connect: ReturnType<typeof createClient<typeof PingService>>;

  // Stands in for a service's own auth: it must guard the service's RPCs and never Health.
  const denyMarked: Interceptor = (next) => (req) => {
    if (req.header.has("x-deny")) {
      throw new ConnectError("denied", Code.PermissionDenied);
    }
    return next(req);
  };

  beforeAll(async () => {
    server = createServer({
      name: "ping-test",
      logger,
      files: [file_fintech_fx_v1_fx],
      metricsPort: 0,
      readiness: async () => ready,
      mapError: (err) =>
        err instanceof Error && err.name === "InsufficientFunds"
          ? connectError(Code.FailedPrecondition, "INSUFFICIENT_BALANCE", "not enough money", {
              available: "1.00",
            })
          : undefined,
      interceptors: [
        denyMarked,
        defineValidation(PingService, {
          ping: (req) =>
            req.payload.startsWith("invalid")
              ? [
                  { field: "payload", message: "must not start with invalid", metadata: { limit: "none" } },
                  { field: "other", message: "second issue" },
                ]
              : [],
        }),
      ],
      routes: (router) =>
        router.service(PingService, {
          ping(req, ctx) {
            switch (req.payload) {
              case "boom":
                throw new Error(SECRET_IN_ERROR);
              case "domain":
                throw new InsufficientFunds("balance 1.00 < 5.00");
              case "request-id":
                return { payload: getRequestId(ctx) };
              default:
                return { payload: req.payload };
            }
          },
        }),
    });
    const listening = await server.listen({ host: "127.0.0.1", port: 0 });
    url = listening.url;
    metricsUrl = listening.metricsUrl ?? "";
    grpc = grpcClient(listening.port);
    connect = createClient(PingService, createGrpcTransport({ baseUrl: url }));
  });

  afterAll(async () => {
    grpc?.close();
    await server?.close({ graceMs: 1_000 });
  });

  it("serves gRPC, gRPC-Web and the Connect protocol on one port", async () => {
    const transports: Transport[] = [
      createGrpcTransport({ baseUrl: url }),
      createGrpcWebTransport({ baseUrl: url, httpVersion: "2" }),
      createConnectTransport({ baseUrl: url, httpVersion: "2" }),
    ];
    for (const transport of transports) {
      const res = await createClient(PingService, transport).ping({ payload: "hello" });
      expect(res.payload).toBe("hello");
    }
  });

  it("answers a stock grpc-js client and echoes its x-request-id", async () => {
    const { message, header } = await unary(
      grpc,
      PingService.method.ping,
      { payload: "from grpc-js" },
      { "x-request-id": "req-123" },
    );
    expect(message.payload).toBe("from grpc-js");
    expect(header.get("x-request-id")).toEqual(["req-123"]);
  });

  it("generates a request id when none is sent and gives the handler the same one", async () => {
    let header: Headers | undefined;
    const res = await connect.ping({ payload: "request-id" }, { onHeader: (h) => (header = h) });
    expect(res.payload).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(header?.get("x-request-id")).toBe(res.payload);
  });

  it("replaces an unsafe incoming request id", async () => {
    for (const unsafe of ['bad "id" {}', "x".repeat(129)]) {
      const res = await connect.ping({ payload: "request-id" }, { headers: { "x-request-id": unsafe } });
      expect(res.payload).not.toBe(unsafe);
      expect(res.payload).toHaveLength(36);
    }
  });

  it("reports health to a stock client: overall, per service, changes and unknown services", async () => {
    const check = async (service: string) =>
      (await unary(grpc, Health.method.check, { service })).message.status;
    expect(await check("")).toBe(Status.SERVING);
    expect(await check("fintech.platform.v1.PingService")).toBe(Status.SERVING);

    server.health.setNotServing("fintech.platform.v1.PingService");
    expect(await check("fintech.platform.v1.PingService")).toBe(Status.NOT_SERVING);
    server.health.setServing("fintech.platform.v1.PingService");
    expect(await check("fintech.platform.v1.PingService")).toBe(Status.SERVING);

    const err = await unary(grpc, Health.method.check, { service: "no.such.Service" }).catch(
      (e: ServiceError) => e,
    );
    expect(err).toMatchObject({ code: grpcStatus.NOT_FOUND });
  });

  it("reports the whole server NOT_SERVING while readiness fails", async () => {
    ready = false;
    try {
      expect((await unary(grpc, Health.method.check, { service: "" })).message.status).toBe(
        Status.NOT_SERVING,
      );
      // Readiness is about the server as a whole; a named service keeps its own status.
      const ping = await unary(grpc, Health.method.check, { service: "fintech.platform.v1.PingService" });
      expect(ping.message.status).toBe(Status.SERVING);
    } finally {
      ready = true;
    }
    expect((await unary(grpc, Health.method.check, { service: "" })).message.status).toBe(Status.SERVING);
  });

  it("streams status changes to Health/Watch", async () => {
    const service = "fintech.platform.v1.PingService";
    const call = serverStream(grpc, Health.method.watch, { service });
    const seen = collect(call);
    try {
      await waitFor(() => seen.messages.length >= 1);
      server.health.setNotServing(service);
      await waitFor(() => seen.messages.length >= 2);
      server.health.setServing(service);
      await waitFor(() => seen.messages.length >= 3);
      expect(seen.messages.map((m) => m.status)).toEqual([
        Status.SERVING,
        Status.NOT_SERVING,
        Status.SERVING,
      ]);
    } finally {
      call.cancel();
      server.health.setServing(service);
    }
  });

  it("applies the service's own interceptors to its RPCs but not to Health", async () => {
    const denied = await unary(grpc, PingService.method.ping, { payload: "x" }, { "x-deny": "1" }).catch(
      (e: ServiceError) => e,
    );
    expect(denied).toMatchObject({ code: grpcStatus.PERMISSION_DENIED });
    const health = await unary(grpc, Health.method.check, { service: "" }, { "x-deny": "1" });
    expect(health.message.status).toBe(Status.SERVING);
  });

  it("lists services and finds the file of services, methods, messages and nested enums over reflection", async () => {
    const symbols = [
      "fintech.platform.v1.PingService",
      "fintech.platform.v1.PingService.Ping",
      "fintech.platform.v1.PingRequest",
      "grpc.health.v1.HealthCheckResponse.ServingStatus",
    ];
    const [list, ...files] = await bidiAll(grpc, ServerReflection.method.serverReflectionInfo, [
      { messageRequest: { case: "listServices", value: "*" } },
      ...symbols.map((value) => ({ messageRequest: { case: "fileContainingSymbol" as const, value } })),
    ]);

    expect(list?.messageResponse.case).toBe("listServicesResponse");
    const names =
      list?.messageResponse.case === "listServicesResponse" ? list.messageResponse.value.service : [];
    expect(names.map((s) => s.name)).toEqual(
      expect.arrayContaining([
        "fintech.platform.v1.PingService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
      ]),
    );

    const fileNames = files.map((res) => {
      if (res.messageResponse.case !== "fileDescriptorResponse") {
        throw new Error(`expected a file descriptor, got ${res.messageResponse.case}`);
      }
      const [first] = res.messageResponse.value.fileDescriptorProto;
      return first === undefined ? undefined : fromBinary(FileDescriptorProtoSchema, first).name;
    });
    expect(fileNames).toEqual([
      "fintech/platform/v1/bench.proto",
      "fintech/platform/v1/bench.proto",
      "fintech/platform/v1/bench.proto",
      "grpc/health/v1/health.proto",
    ]);
  });

  it("serves a file together with its transitive dependencies, and NOT_FOUND for unknown names", async () => {
    const [byName, extension, unknownSymbol, unknownFile] = await bidiAll(
      grpc,
      ServerReflection.method.serverReflectionInfo,
      [
        { messageRequest: { case: "fileByFilename", value: "fintech/fx/v1/fx.proto" } },
        {
          messageRequest: {
            case: "fileContainingExtension",
            value: { containingType: "google.protobuf.MethodOptions", extensionNumber: 72295728 },
          },
        },
        { messageRequest: { case: "fileContainingSymbol", value: "no.such.Symbol" } },
        { messageRequest: { case: "fileByFilename", value: "no/such.proto" } },
      ],
    );

    if (byName?.messageResponse.case !== "fileDescriptorResponse") {
      throw new Error(`expected a file descriptor, got ${byName?.messageResponse.case}`);
    }
    const protos = byName.messageResponse.value.fileDescriptorProto.map((b) =>
      fromBinary(FileDescriptorProtoSchema, b),
    );
    expect(protos[0]?.name).toBe("fintech/fx/v1/fx.proto");
    expect(protos.map((p) => p.name)).toEqual(
      expect.arrayContaining([
        "google/api/annotations.proto",
        "google/api/http.proto",
        "google/protobuf/descriptor.proto",
        "google/protobuf/timestamp.proto",
      ]),
    );
    // What a client receives is self-contained, the dependencies in an order a pool can be built in.
    const [requested, ...deps] = protos;
    const registry = createFileRegistry(
      create(FileDescriptorSetSchema, { file: [...deps, ...(requested ? [requested] : [])] }),
    );
    expect(registry.getService("fintech.fx.v1.FxService")?.methods.length).toBeGreaterThan(0);

    expect(extension?.messageResponse.case).toBe("fileDescriptorResponse");
    for (const res of [unknownSymbol, unknownFile]) {
      expect(res?.messageResponse).toMatchObject({
        case: "errorResponse",
        value: { errorCode: grpcStatus.NOT_FOUND },
      });
    }
  });

  it("refuses a request message larger than the gateway's 1 MiB body (plus its headroom) on the service port", async () => {
    const justFits = "x".repeat(1024 * 1024);
    expect((await connect.ping({ payload: justFits })).payload).toHaveLength(justFits.length);
    const err = await connect
      .ping({ payload: "x".repeat(MAX_REQUEST_BYTES) })
      .then(unexpected, (e: unknown) => ConnectError.from(e));
    expect(err.code).toBe(Code.ResourceExhausted);
  });

  it("answers an unmapped error as INTERNAL without its message, and logs it with its stack", async () => {
    const err = await unary(
      grpc,
      PingService.method.ping,
      { payload: "boom" },
      { "x-request-id": "boom-1" },
    ).catch((e: ServiceError) => e);
    expect(err).toMatchObject({ code: grpcStatus.INTERNAL, details: "internal error" });
    expect((err as ServiceError).metadata.get("x-request-id")).toEqual(["boom-1"]);
    expect(JSON.stringify(err)).not.toContain("hunter2");

    const logged = lines.find((l) => l.level === "error" && l.request_id === "boom-1");
    expect(logged).toMatchObject({
      service: "ping-test",
      method: "Ping",
      msg: "unhandled error in RPC handler",
    });
    expect((logged?.err as { stack?: string } | undefined)?.stack).toContain(SECRET_IN_ERROR);
  });

  it("sends a mapped domain error with its ErrorInfo, domain defaulting to the server's name", async () => {
    const err = await connect
      .ping({ payload: "domain" })
      .then(unexpected, (e: unknown) => ConnectError.from(e));
    expect(err.code).toBe(Code.FailedPrecondition);
    expect(err.rawMessage).toBe("not enough money");
    expect(errorInfoOf(err)).toEqual({
      reason: "INSUFFICIENT_BALANCE",
      domain: "ping-test",
      metadata: { available: "1.00" },
    });
  });

  it("rejects an invalid request with VALIDATION_ERROR before the handler runs", async () => {
    const err = await connect
      .ping({ payload: "invalid!" })
      .then(unexpected, (e: unknown) => ConnectError.from(e));
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toBe("invalid request: payload: must not start with invalid; other: second issue");
    expect(errorInfoOf(err)).toMatchObject({
      reason: "VALIDATION_ERROR",
      metadata: { field: "payload", limit: "none" },
    });
    expect(err.findDetails(BadRequestSchema)[0]?.fieldViolations.map((v) => v.field)).toEqual([
      "payload",
      "other",
    ]);
  });

  it("logs one line per RPC with its outcome, never bodies or credentials", async () => {
    await unary(
      grpc,
      PingService.method.ping,
      { payload: "body-marker-42" },
      { "x-request-id": "log-1", authorization: "Bearer sekret-token" },
    );
    const line = lines.find((l) => l.msg === "rpc" && l.request_id === "log-1");
    expect(line).toMatchObject({
      level: "info",
      service: "ping-test",
      rpc_service: "fintech.platform.v1.PingService",
      method: "Ping",
      code: "OK",
    });
    expect(typeof line?.duration_ms).toBe("number");
    const all = raw.join("");
    expect(all).not.toContain("body-marker-42");
    expect(all).not.toContain("sekret-token");
    // Exactly one line per call, with the mapped code for failures.
    await connect
      .ping({ payload: "domain" }, { headers: { "x-request-id": "log-2" } })
      .catch(() => undefined);
    expect(lines.filter((l) => l.request_id === "log-2")).toEqual([
      expect.objectContaining({ msg: "rpc", code: "FailedPrecondition" }),
    ]);
  });

  it("counts RPCs on /metrics and answers /healthz", async () => {
    const okCount = async (): Promise<number> => {
      const body = await (await fetch(`${metricsUrl}/metrics`)).text();
      expect(body).toContain("process_cpu_seconds_total");
      expect(body).toContain("rpc_server_duration_seconds_bucket");
      const match = body
        .split("\n")
        .find(
          (l) =>
            l.startsWith("rpc_server_requests_total{") &&
            l.includes('service="fintech.platform.v1.PingService"') &&
            l.includes('method="Ping"') &&
            l.includes('code="OK"'),
        );
      return Number(match?.split(" ").at(-1) ?? 0);
    };
    const before = await okCount();
    await connect.ping({ payload: "count me" });
    await connect.ping({ payload: "count me too" });
    expect(await okCount()).toBe(before + 2);

    const healthz = await fetch(`${metricsUrl}/healthz`);
    expect(healthz.status).toBe(200);
    expect(await healthz.text()).toBe("ok");
  });
});

describe("reflection: false", () => {
  it("answers Health but not reflection, and names no reflection service", async () => {
    const server = createServer({
      name: "no-reflection",
      logger: captureLogger("no-reflection").logger,
      reflection: false,
      routes: (router) => router.service(PingService, { ping: (req) => ({ payload: req.payload }) }),
    });
    const { port } = await server.listen({ host: "127.0.0.1", port: 0 });
    const grpc = grpcClient(port);
    try {
      expect((await unary(grpc, Health.method.check, { service: "" })).message.status).toBe(Status.SERVING);
      const err = await bidiAll(grpc, ServerReflection.method.serverReflectionInfo, [
        { messageRequest: { case: "listServices", value: "*" } },
      ]).then(unexpected, (e: ServiceError) => e);
      expect(err).toMatchObject({ code: grpcStatus.UNIMPLEMENTED });
    } finally {
      grpc.close();
      await server.close({ graceMs: 100 });
    }
  });
});

describe("close", () => {
  function slowServer(files: DescFile[] = []) {
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const state = { started: false, release };
    const server = createServer({
      name: "slow",
      logger: captureLogger("slow").logger,
      files,
      routes: (router) =>
        router.service(PingService, {
          async ping(req) {
            state.started = true;
            if (req.payload === "forever") {
              await new Promise(() => undefined);
            }
            await gate;
            return { payload: "finished" };
          },
        }),
    });
    return { server, state };
  }

  it("tells watchers NOT_SERVING, refuses new connections and lets an in-flight RPC finish", async () => {
    const { server, state } = slowServer();
    const { port, url } = await server.listen({ host: "127.0.0.1" });
    const watcher = grpcClient(port);
    const watch = collect(serverStream(watcher, Health.method.watch, { service: "" }));
    await waitFor(() => watch.messages.length === 1);

    const inFlight = createClient(PingService, createGrpcTransport({ baseUrl: url })).ping({
      payload: "slow",
    });
    await waitFor(() => state.started);

    let closed = false;
    const closing = server.close({ graceMs: 10_000 }).then(() => {
      closed = true;
    });
    await waitFor(() => watch.ended);
    expect(watch.messages.map((m) => m.status)).toEqual([Status.SERVING, Status.NOT_SERVING]);

    const late = grpcClient(port);
    const refused = await unary(late, PingService.method.ping, { payload: "late" }).catch(
      (e: ServiceError) => e,
    );
    expect(refused).toMatchObject({ code: grpcStatus.UNAVAILABLE });
    expect(closed).toBe(false);

    state.release();
    expect((await inFlight).payload).toBe("finished");
    await closing;
    expect(closed).toBe(true);
    watcher.close();
    late.close();
  });

  it("cancels what is still running when the grace period ends", async () => {
    const { server, state } = slowServer();
    const { url } = await server.listen({ host: "127.0.0.1" });
    const stuck = createClient(PingService, createGrpcTransport({ baseUrl: url }))
      .ping({ payload: "forever" })
      .catch((e: unknown) => ConnectError.from(e));
    await waitFor(() => state.started);
    const started = Date.now();
    await server.close({ graceMs: 200 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    const err = await stuck;
    expect(err).toBeInstanceOf(ConnectError);
  });
});
