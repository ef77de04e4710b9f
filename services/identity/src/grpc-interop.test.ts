import { IdentityService } from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "@fintech/proto/grpc/health/v1/health_pb.js";
import { grpcClient, grpcErrorInfo, unary } from "@fintech/testing";
import type { ServiceError } from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import { expect } from "vitest";
import { identityTest, PASSWORD } from "./test/harness.js";

// A stock @grpc/grpc-js client, not Connect: what any gRPC tool or language sees on the identity port.
const test = identityTest();

test("a grpc-js client registers, logs in, calls GetMe with the token, and sees health", async ({
  identity,
}) => {
  const client = grpcClient(identity.port);
  try {
    const health = await unary(client, Health.method.check, { service: IdentityService.typeName });
    expect(health.message.status).toBe(HealthCheckResponse_ServingStatus.SERVING);

    const email = "interop@example.com";
    await unary(client, IdentityService.method.register, { email, password: PASSWORD, fullName: "Interop" });
    const login = await unary(client, IdentityService.method.login, { email, password: PASSWORD });
    const me = await unary(
      client,
      IdentityService.method.getMe,
      {},
      {
        authorization: `Bearer ${login.message.accessToken}`,
      },
    );
    expect(me.message.user?.email).toBe(email);

    const refused = await unary(client, IdentityService.method.getMe, {}).catch((e) => e);
    expect(refused.code).toBe(status.UNAUTHENTICATED);
  } finally {
    client.close();
  }
});

test("a NUL in a field is InvalidArgument naming the field, not a database error", async ({ identity }) => {
  const client = grpcClient(identity.port);
  try {
    const err = (await unary(client, IdentityService.method.register, {
      email: `nul-${Date.now()}@example.com`,
      password: PASSWORD,
      fullName: "Ana\u0000Lee",
    }).catch((e: unknown) => e)) as ServiceError;
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(grpcErrorInfo(err)).toMatchObject({
      reason: "VALIDATION_ERROR",
      metadata: { field: "full_name" },
    });
  } finally {
    client.close();
  }
});
