import { randomUUID } from "node:crypto";
import { WebhookService } from "@fintech/proto/fintech/notifications/v1/notifications_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "@fintech/proto/grpc/health/v1/health_pb.js";
import { grpcClient, testUser, unary } from "@fintech/testing";
import { status } from "@grpc/grpc-js";
import { expect } from "vitest";
import { notificationsTest } from "./test/harness.js";

// A stock @grpc/grpc-js client, not Connect: what any gRPC tool or language sees on the notifications port.
const test = notificationsTest();

test("a grpc-js client registers a webhook and asks the health service", async ({ notifications }) => {
  const client = grpcClient(notifications.port);
  const auth = { authorization: `Bearer ${await notifications.token(testUser(randomUUID()))}` };
  try {
    const health = await unary(client, Health.method.check, { service: WebhookService.typeName });
    expect(health.message.status).toBe(HealthCheckResponse_ServingStatus.SERVING);

    const res = await unary(
      client,
      WebhookService.method.createWebhook,
      { url: "http://127.0.0.1:9/hook", events: ["transaction.completed"] },
      auth,
    );
    expect(res.message.webhook?.secret).toMatch(/^whsec_/);

    const refused = await unary(
      client,
      WebhookService.method.createWebhook,
      { url: "http://127.0.0.1:9/hook", events: ["nope"] },
      auth,
    ).catch((e) => e);
    expect(refused.code).toBe(status.INVALID_ARGUMENT);
    const anonymous = await unary(client, WebhookService.method.listWebhooks, {}).catch((e) => e);
    expect(anonymous.code).toBe(status.UNAUTHENTICATED);
  } finally {
    client.close();
  }
});
