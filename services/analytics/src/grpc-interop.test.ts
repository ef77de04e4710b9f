import { AnalyticsService } from "@fintech/proto/fintech/analytics/v1/analytics_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "@fintech/proto/grpc/health/v1/health_pb.js";
import { grpcClient, grpcErrorInfo, unary } from "@fintech/testing";
import type { ServiceError } from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import { expect } from "vitest";
import { analyticsTest } from "./test/harness.js";

// A stock @grpc/grpc-js client, not Connect: what any gRPC tool or language sees on the analytics port.
const test = analyticsTest();

test("a grpc-js client checks health and asks for a summary with a bearer token", async ({ analytics }) => {
  const client = grpcClient(analytics.port);
  try {
    const health = await unary(client, Health.method.check, { service: AnalyticsService.typeName });
    expect(health.message.status).toBe(HealthCheckResponse_ServingStatus.SERVING);

    const auth = { authorization: `Bearer ${await analytics.token("user-1")}` };
    const res = await unary(client, AnalyticsService.method.getSummary, {}, auth);
    expect(res.message).toMatchObject({
      currency: "MYR",
      transactionCount: 0n,
      averageTransactionValue: "0.00",
    });

    const anonymous = await unary(client, AnalyticsService.method.getSummary, {}).catch((e) => e);
    expect(anonymous.code).toBe(status.UNAUTHENTICATED);
    const bad = await unary(
      client,
      AnalyticsService.method.getSpending,
      { startDate: "yesterday" },
      auth,
    ).catch((e) => e);
    expect(bad.code).toBe(status.INVALID_ARGUMENT);
  } finally {
    client.close();
  }
});

test("a NUL in a field is InvalidArgument naming the field, not a database error", async ({ analytics }) => {
  const client = grpcClient(analytics.port);
  const auth = { authorization: `Bearer ${await analytics.token("user-1")}` };
  try {
    const err = (await unary(
      client,
      AnalyticsService.method.getSpending,
      { startDate: "2026-03-01\u0000" },
      auth,
    ).catch((e: unknown) => e)) as ServiceError;
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(grpcErrorInfo(err)).toMatchObject({
      reason: "VALIDATION_ERROR",
      metadata: { field: "start_date" },
    });
  } finally {
    client.close();
  }
});
