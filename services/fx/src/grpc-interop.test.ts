import { testUser } from "@fintech/auth/testing";
import { FxService } from "@fintech/proto/fintech/fx/v1/fx_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "@fintech/proto/grpc/health/v1/health_pb.js";
import { grpcClient, unary } from "@fintech/testing";
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
    const anonymous = await unary(client, FxService.method.getRate, { base: "USD", quote: "SGD" }).catch(
      (e) => e,
    );
    expect(anonymous.code).toBe(status.UNAUTHENTICATED);
  } finally {
    client.close();
  }
});
