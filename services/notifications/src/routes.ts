import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import { requireUser } from "@fintech/auth";
import { pageSize } from "@fintech/platform";
import type { Webhook } from "@fintech/proto/fintech/notifications/v1/notifications_pb.js";
import { WebhookSchema, WebhookService } from "@fintech/proto/fintech/notifications/v1/notifications_pb.js";
import type { Actor, Endpoint } from "./model.js";
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
