import { randomUUID } from "node:crypto";
import { Decision, FraudService } from "@fintech/proto/fintech/fraud/v1/fraud_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "@fintech/proto/grpc/health/v1/health_pb.js";
import { grpcClient, grpcErrorInfo, unary } from "@fintech/testing";
import type { ServiceError } from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import { expect } from "vitest";
import { fraudTest, scoreRequest } from "./test/harness.js";

// A stock @grpc/grpc-js client, not Connect: what any gRPC tool or language sees on the fraud port.
const test = fraudTest();

test("a grpc-js client scores as the wallet, reads rules as an admin, and asks the health service", async ({
  fraud,
}) => {
  const client = grpcClient(fraud.port);
  try {
    const health = await unary(client, Health.method.check, { service: FraudService.typeName });
    expect(health.message.status).toBe(HealthCheckResponse_ServingStatus.SERVING);

    const wallet = { authorization: `Bearer ${await fraud.token("service:wallet")}` };
    const req = scoreRequest(randomUUID(), new Date("2026-03-02T15:30:00Z"), "10000.01");
    const res = await unary(client, FraudService.method.score, req, wallet);
    expect(res.message).toMatchObject({ score: 40, decision: Decision.APPROVE, ruleVersion: 1 });
    expect(res.message.flags.map((f) => f.rule)).toEqual(["HIGH_VALUE", "OFF_HOURS"]);

    const rules = await unary(
      client,
      FraudService.method.getRules,
      {},
      { authorization: `Bearer ${await fraud.token("admin:a1")}` },
    );
    expect(rules.message.rules?.reviewThreshold).toBe(60);

    const refused = await unary(client, FraudService.method.getRules, {}, wallet).catch((e) => e);
    expect(refused.code).toBe(status.PERMISSION_DENIED);
    const invalid = await unary(client, FraudService.method.score, { ...req, userId: "" }, wallet).catch(
      (e) => e,
    );
    expect(invalid.code).toBe(status.INVALID_ARGUMENT);
  } finally {
    client.close();
  }
});

test("a NUL in a nested field is InvalidArgument naming its path, not a database error", async ({
  fraud,
}) => {
  const client = grpcClient(fraud.port);
  const wallet = { authorization: `Bearer ${await fraud.token("service:wallet")}` };
  try {
    const req = scoreRequest("user-nul", new Date(), "10.00", { merchantName: "Kedai\u0000Kopi" });
    const err = (await unary(client, FraudService.method.score, req, wallet).catch(
      (e: unknown) => e,
    )) as ServiceError;
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(grpcErrorInfo(err)).toMatchObject({
      reason: "VALIDATION_ERROR",
      metadata: { field: "merchant_name" },
    });
  } finally {
    client.close();
  }
});
