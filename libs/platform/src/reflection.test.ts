// Reflection as stock tools use it, through a plain @grpc/grpc-js client: grpcurl asks grpc.reflection.v1,
// Postman and grpc_cli still ask grpc.reflection.v1alpha, and a client meeting an error detail in
// grpc-status-details-bin looks its type up by the name in the Any's type URL.
import type { Registry } from "@bufbuild/protobuf";
import { create, createFileRegistry, fromBinary, toJson } from "@bufbuild/protobuf";
import type { FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { PingService } from "@fintech/proto/fintech/platform/v1/bench_pb.js";
import { StatusSchema } from "@fintech/proto/google/rpc/status_pb.js";
import type { ServerReflectionResponse } from "@fintech/proto/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection } from "@fintech/proto/grpc/reflection/v1/reflection_pb.js";
import type { ServerReflectionResponse as ServerReflectionResponseV1alpha } from "@fintech/proto/grpc/reflection/v1alpha/reflection_pb.js";
import { ServerReflection as ServerReflectionV1alpha } from "@fintech/proto/grpc/reflection/v1alpha/reflection_pb.js";
import { bidiAll, grpcClient, unary } from "@fintech/testing";
import type { Client, ServiceError } from "@grpc/grpc-js";
import { status as grpcStatus } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "./logger.js";
import type { PlatformServer } from "./server.js";
import { createServer } from "./server.js";
import { defineValidation } from "./validation.js";

type Response = ServerReflectionResponse | ServerReflectionResponseV1alpha;
type Request = {
  messageRequest: { case: "listServices" | "fileContainingSymbol" | "fileByFilename"; value: string };
};
type Ask = (client: Client, requests: Request[]) => Promise<Response[]>;

const versions: [string, Ask][] = [
  [
    "grpc.reflection.v1",
    (client, requests) => bidiAll(client, ServerReflection.method.serverReflectionInfo, requests),
  ],
  [
    "grpc.reflection.v1alpha",
    (client, requests) => bidiAll(client, ServerReflectionV1alpha.method.serverReflectionInfo, requests),
  ],
];

const bySymbol = (value: string): Request => ({ messageRequest: { case: "fileContainingSymbol", value } });

/** The files of a file_descriptor_response, the requested one first. */
function filesOf(res: Response | undefined): FileDescriptorProto[] {
  if (res?.messageResponse.case !== "fileDescriptorResponse") {
    throw new Error(`expected a file descriptor, got ${JSON.stringify(res?.messageResponse)}`);
  }
  return res.messageResponse.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b));
}

/** A registry of the files reflection answered for these names, deps before their dependents, as a dynamic client builds it. */
async function reflectedRegistry(client: Client, ask: Ask, typeNames: readonly string[]): Promise<Registry> {
  const files = new Map<string, FileDescriptorProto>();
  for (const typeName of typeNames) {
    const [requested, ...deps] = filesOf((await ask(client, [bySymbol(typeName)]))[0]);
    for (const file of [...deps, ...(requested ? [requested] : [])]) {
      if (!files.has(file.name)) files.set(file.name, file);
    }
  }
  return createFileRegistry(create(FileDescriptorSetSchema, { file: [...files.values()] }));
}

describe("reflection", () => {
  let server: PlatformServer;
  let client: Client;

  beforeAll(async () => {
    server = createServer({
      name: "reflection-test",
      logger: createLogger({ name: "reflection-test", level: "silent" }),
      interceptors: [
        defineValidation(PingService, {
          ping: (req) =>
            req.payload === ""
              ? [{ field: "payload", message: "must not be empty", metadata: { min: "1" } }]
              : [],
        }),
      ],
      routes: (router) => router.service(PingService, { ping: (req) => ({ payload: req.payload }) }),
    });
    client = grpcClient((await server.listen({ host: "127.0.0.1", port: 0 })).port);
  });

  afterAll(async () => {
    client.close();
    await server.close({ graceMs: 100 });
  });

  for (const [version, ask] of versions) {
    describe(version, () => {
      it("lists both reflection services beside the service's own and finds the file of a method", async () => {
        const [list, method] = await ask(client, [
          { messageRequest: { case: "listServices", value: "*" } },
          bySymbol("fintech.platform.v1.PingService.Ping"),
        ]);
        const names =
          list?.messageResponse.case === "listServicesResponse" ? list.messageResponse.value.service : [];
        expect(names.map((s) => s.name).sort()).toEqual([
          "fintech.platform.v1.PingService",
          "grpc.health.v1.Health",
          "grpc.reflection.v1.ServerReflection",
          "grpc.reflection.v1alpha.ServerReflection",
        ]);
        expect(filesOf(method)[0]?.name).toBe("fintech/platform/v1/bench.proto");
      });

      it("resolves google.rpc.Status, ErrorInfo and BadRequest by name, enough to read a refusal's details", async () => {
        const refusal = await unary(client, PingService.method.ping, { payload: "" }).then(
          () => undefined,
          (e: ServiceError) => e,
        );
        expect(refusal?.code).toBe(grpcStatus.INVALID_ARGUMENT);
        const [bin] = refusal?.metadata.get("grpc-status-details-bin") ?? [];
        if (!(bin instanceof Buffer)) throw new Error("the refusal has no grpc-status-details-bin");

        // The envelope and each detail it names, read as grpcurl prints them, with types only reflection supplied.
        const named = fromBinary(StatusSchema, bin).details.map((any) => any.typeUrl.replace(/^.*\//, ""));
        const registry = await reflectedRegistry(client, ask, ["google.rpc.Status", ...named]);
        const statusType = registry.getMessage("google.rpc.Status");
        if (statusType === undefined)
          throw new Error("google.rpc.Status is not in the files reflection answered");
        expect(toJson(statusType, fromBinary(statusType, bin), { registry })).toEqual({
          code: grpcStatus.INVALID_ARGUMENT,
          message: "invalid request: payload: must not be empty",
          details: [
            {
              "@type": "type.googleapis.com/google.rpc.ErrorInfo",
              reason: "VALIDATION_ERROR",
              domain: "reflection-test",
              metadata: { field: "payload", min: "1" },
            },
            {
              "@type": "type.googleapis.com/google.rpc.BadRequest",
              fieldViolations: [{ field: "payload", description: "must not be empty" }],
            },
          ],
        });

        const nested = filesOf((await ask(client, [bySymbol("google.rpc.BadRequest.FieldViolation")]))[0]);
        expect(nested[0]?.name).toBe("google/rpc/error_details.proto");
      });
    });
  }
});
