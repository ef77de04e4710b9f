import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import { requireUser } from "@fintech/auth";
import { pageSize } from "@fintech/platform";
import type { Webhook, WebhookDelivery } from "@fintech/proto/fintech/notifications/v1/notifications_pb.js";
import {
  WebhookAttemptSchema,
  WebhookDeliverySchema,
  WebhookSchema,
  WebhookService,
} from "@fintech/proto/fintech/notifications/v1/notifications_pb.js";
import type { Actor, Endpoint } from "./model.js";
import type { DeliveryRow } from "./store.js";
import type { WebhookService as Webhooks } from "./webhook-service.js";

// The RPC surface. Requests have passed validation.ts: ids are UUIDs (any case), event types are known.

export function notificationsRoutes(webhooks: Webhooks) {
  return (router: ConnectRouter) =>
    router.service(WebhookService, {
      async createWebhook(req, ctx) {
        const endpoint = await webhooks.create(actorOf(ctx), {
          url: req.url,
          eventTypes: req.events,
          description: req.description,
          platformWide: req.platformWide,
        });
        return { webhook: webhookMessage(endpoint) };
      },
      async listWebhooks(req, ctx) {
        const page = await webhooks.list(
          actorOf(ctx),
          pageSize(req.limit),
          req.cursor === "" ? undefined : req.cursor,
        );
        return {
          data: page.data.map(webhookMessage),
          hasMore: page.nextCursor !== undefined,
          nextCursor: page.nextCursor ?? "",
        };
      },
      async getWebhook(req, ctx) {
        return { webhook: webhookMessage(await webhooks.get(actorOf(ctx), req.id.toLowerCase())) };
      },
      async updateWebhook(req, ctx) {
        const endpoint = await webhooks.update(actorOf(ctx), req.id.toLowerCase(), {
          ...(req.url === undefined ? {} : { url: req.url }),
          ...(req.events.length === 0 ? {} : { eventTypes: req.events }),
          ...(req.description === undefined ? {} : { description: req.description }),
          ...(req.enabled === undefined ? {} : { enabled: req.enabled }),
        });
        return { webhook: webhookMessage(endpoint) };
      },
      async deleteWebhook(req, ctx) {
        await webhooks.remove(actorOf(ctx), req.id.toLowerCase());
        return {};
      },
      async rotateWebhookSecret(req, ctx) {
        const overlapMs = req.overlapHours === undefined ? undefined : req.overlapHours * 3_600_000;
        return {
          webhook: webhookMessage(await webhooks.rotateSecret(actorOf(ctx), req.id.toLowerCase(), overlapMs)),
        };
      },
      async listWebhookDeliveries(req, ctx) {
        const page = await webhooks.deliveries(
          actorOf(ctx),
          req.id.toLowerCase(),
          pageSize(req.limit),
          req.cursor === "" ? undefined : req.cursor,
        );
        return {
          data: page.data.map(deliveryMessage),
          hasMore: page.nextCursor !== undefined,
          nextCursor: page.nextCursor ?? "",
        };
      },
      async listWebhookDeliveryAttempts(req, ctx) {
        const attempts = await webhooks.attempts(
          actorOf(ctx),
          req.id.toLowerCase(),
          req.deliveryId.toLowerCase(),
        );
        return {
          data: attempts.map((a) =>
            create(WebhookAttemptSchema, {
              attempt: a.attempt,
              startedAt: timestampFromDate(a.startedAt),
              durationMs: a.durationMs,
              responseCode: a.responseCode ?? 0,
              error: a.error,
            }),
          ),
        };
      },
      async resendWebhookDelivery(req, ctx) {
        const delivery = await webhooks.resend(
          actorOf(ctx),
          req.id.toLowerCase(),
          req.deliveryId.toLowerCase(),
        );
        return { delivery: deliveryMessage(delivery) };
      },
      async replayWebhookEvents(req, ctx) {
        const since = req.since === undefined ? new Date(0) : timestampDate(req.since);
        return { queued: await webhooks.replay(actorOf(ctx), req.id.toLowerCase(), since) };
      },
    });
}

/** The calling user (an API key's user included) and whether they are an admin. */
function actorOf(ctx: HandlerContext): Actor {
  const me = requireUser(ctx);
  return { userId: me.userId, admin: me.roles.includes("admin") };
}

function webhookMessage(e: Endpoint): Webhook {
  return create(WebhookSchema, {
    id: e.id,
    url: e.url,
    events: e.eventTypes,
    description: e.description,
    enabled: e.enabled,
    userId: e.userId ?? "",
    platformWide: e.userId === undefined,
    secret: e.secret ?? "",
    disabledReason: e.disabledReason,
    createdAt: timestampFromDate(e.createdAt),
    updatedAt: timestampFromDate(e.updatedAt),
  });
}

function deliveryMessage(d: DeliveryRow): WebhookDelivery {
  return create(WebhookDeliverySchema, {
    id: d.id,
    webhookId: d.endpointId,
    eventId: d.eventId,
    eventType: d.eventType,
    status: d.status,
    attempts: d.attempts,
    ...(d.nextAttemptAt === undefined ? {} : { nextAttemptAt: timestampFromDate(d.nextAttemptAt) }),
    lastResponseCode: d.lastResponseCode ?? 0,
    lastError: d.lastError,
    createdAt: timestampFromDate(d.createdAt),
    ...(d.completedAt === undefined ? {} : { completedAt: timestampFromDate(d.completedAt) }),
  });
}
