import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { FxService } from "@fintech/proto/fintech/fx/v1/fx_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "@fintech/proto/grpc/health/v1/health_pb.js";
import { ServerReflection } from "@fintech/proto/grpc/reflection/v1/reflection_pb.js";
import { bidiAll, grpcClient, testUser, unary } from "@fintech/testing";
import { status } from "@grpc/grpc-js";
import { expect } from "vitest";
import { fxTest } from "./test/harness.js";

// A stock @grpc/grpc-js client, not Connect: what any gRPC tool or language sees on the fx port.
const test = fxTest();

test("a grpc-js client calls GetRate and the health service", async ({ fx }) => {
  const client = grpcClient(fx.port);
  const auth = { authorization: `Bearer ${await fx.token(testUser("user-1"))}` };
  try {
    const health = await unary(client, Health.method.check, { service: FxService.typeName });
    expect(health.message.status).toBe(HealthCheckResponse_ServingStatus.SERVING);

    const res = await unary(client, FxService.method.getRate, { base: "USD", quote: "SGD" }, auth);
    expect(res.message.rate?.rate).toBe("1.342857142857");

    const refused = await unary(client, FxService.method.getRate, { base: "USD", quote: "ABC" }, auth).catch(
      (e) => e,
    );
    expect(refused.code).toBe(status.INVALID_ARGUMENT);
    // grpc-js decodes grpc-message with decodeURI: a server escaping ":" or ";" would show "%3A" here.
    const both = await unary(client, FxService.method.getRate, { base: "US", quote: "ABC" }, auth).catch(
      (e) => e,
    );
    expect(both.details).toBe(
      "invalid request: base: must be an ISO 4217 currency code such as MYR; quote: must be an ISO 4217 currency code such as MYR",
    );
    const anonymous = await unary(client, FxService.method.getRate, { base: "USD", quote: "SGD" }).catch(
      (e) => e,
    );
    expect(anonymous.code).toBe(status.UNAUTHENTICATED);
  } finally {
    client.close();
  }
});

test("the fx port as configured by default serves no reflection and refuses a message over the gateway's 1 MiB", async ({
  fx,
}) => {
  const client = grpcClient(fx.port);
  const auth = { authorization: `Bearer ${await fx.token(testUser("user-1"))}` };
  try {
    const reflection = await bidiAll(client, ServerReflection.method.serverReflectionInfo, [
      { messageRequest: { case: "listServices", value: "*" } },
    ]).catch((e) => e);
    expect(reflection.code).toBe(status.UNIMPLEMENTED);

    // Sent with Connect's gRPC transport: grpc-js keeps writing the whole message before it reads the refusal.
    // The refused upload is left half-sent; the session is dropped so the server does not wait for it at close.
    const session = new Http2SessionManager(fx.url);
    const connect = createClient(
      FxService,
      createGrpcTransport({ baseUrl: fx.url, sessionManager: session }),
    );
    try {
      const huge = await connect
        .getRate({ base: "U".repeat(2 * 1024 * 1024), quote: "SGD" }, { headers: auth })
        .then(
          () => undefined,
          (e: unknown) => ConnectError.from(e),
        );
      expect(huge?.code).toBe(Code.ResourceExhausted);
    } finally {
      session.abort();
    }
  } finally {
    client.close();
  }
});
