import { randomBytes, randomUUID } from "node:crypto";
import type { Queryable } from "@fintech/db";
import type { Clock } from "@fintech/platform";
import { cursorParts, pageCursor, takePage } from "@fintech/platform";
import type pg from "pg";
import { NotificationsError } from "./errors.js";
import type { WebhookEvent } from "./event-bodies.js";
import type { Actor, Endpoint, EndpointRow } from "./model.js";
import type { SecretBox } from "./secret-box.js";
import type { AttemptRow, DeliveryRow, Visibility } from "./store.js";
import { deliveryStore, store } from "./store.js";
import type { TargetPolicy } from "./target-policy.js";

/** Random bytes in a new signing secret (Standard Webhooks takes 24 to 64). */
const SECRET_BYTES = 32;

/** A new signing secret as Standard Webhooks writes one: `whsec_` and base64 of random bytes. */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(SECRET_BYTES).toString("base64")}`;
}

const endpointCursor = pageCursor({ createdAt: cursorParts.time, id: cursorParts.uuid });
const deliveryCursor = pageCursor({ createdAt: cursorParts.time, id: cursorParts.uuid });

/** A page of endpoints. */
export interface EndpointPage {
  data: Endpoint[];
  nextCursor: string | undefined;
}

/** A page of deliveries. */
export interface DeliveryPage {
  data: DeliveryRow[];
  nextCursor: string | undefined;
}

/**
 * The webhook endpoints: who owns which, their URLs (checked against the target policy), their event types
 * and their secrets, sealed by `secrets` before they are stored; the events they receive and the deliveries
 * of those events, which `queued` hands to the delivery worker.
 */
export function createWebhookService(deps: {
  pool: pg.Pool;
  clock: Clock;
  secrets: SecretBox;
  targets: TargetPolicy;
  /** How long the previous secret signs after a rotation by default, in milliseconds. */
  rotationOverlapMs: number;
  /** Called once new deliveries are committed. */
  queued: () => void;
}) {
  const { pool, clock, secrets, targets } = deps;
  const visibility = (actor: Actor): Visibility => ({ userId: actor.userId, platformWide: actor.admin });
  const notFound = (id: string) =>
    new NotificationsError("NOT_FOUND", "webhook not found", { webhook_id: id });

  const visibleEndpoint = async (actor: Actor, id: string): Promise<EndpointRow> => {
    const row = await store.endpoint(pool, id, visibility(actor));
    if (row === undefined) throw notFound(id);
    return row;
  };

  const checkUrl = async (url: string): Promise<void> => {
    const problem = await targets.checkUrl(url);
    if (problem !== undefined) {
      throw new NotificationsError("VALIDATION_ERROR", `url: ${problem}`, { field: "url" });
    }
  };

  return {
    /** Registers an endpoint; the answer is the only one that carries its secret. */
    async create(
      actor: Actor,
      input: { url: string; eventTypes: readonly string[]; description: string; platformWide: boolean },
    ): Promise<Endpoint> {
      if (input.platformWide && !actor.admin) {
        throw new NotificationsError("FORBIDDEN", "only admins register platform-wide webhooks", {
          field: "platform_wide",
        });
      }
      await checkUrl(input.url);
      const id = randomUUID();
      const secret = newSigningSecret();
      const row = await store.insertEndpoint(pool, {
        id,
        userId: input.platformWide ? undefined : actor.userId,
        createdBy: `user:${actor.userId}`,
        url: input.url,
        eventTypes: input.eventTypes,
        description: input.description,
        secret: secrets.seal(secret, id),
        at: clock.now(),
      });
      return { ...shown(row), secret };
    },

    async list(actor: Actor, limit: number, cursor?: string): Promise<EndpointPage> {
      const after = cursor === undefined ? undefined : endpointCursor.decode(cursor);
      const rows = await store.listEndpoints(pool, visibility(actor), { limit: limit + 1, after });
      const { items, nextPageToken } = takePage(rows, limit, (last) => endpointCursor.encode(last));
      return { data: items.map(shown), nextCursor: nextPageToken };
    },

    async get(actor: Actor, id: string): Promise<Endpoint> {
      return shown(await visibleEndpoint(actor, id));
    },

    /** Changes what is given; what is left out stays. */
    async update(
      actor: Actor,
      id: string,
      change: { url?: string; eventTypes?: readonly string[]; description?: string; enabled?: boolean },
    ): Promise<Endpoint> {
      if (change.url !== undefined) await checkUrl(change.url);
      const row = await store.updateEndpoint(pool, id, visibility(actor), { ...change, at: clock.now() });
      if (row === undefined) throw notFound(id);
      return shown(row);
    },

    async remove(actor: Actor, id: string): Promise<void> {
      if (!(await store.deleteEndpoint(pool, id, visibility(actor)))) throw notFound(id);
    },

    /**
     * A new secret, in this answer only; the current one keeps signing beside it for `overlapMs` (default the
     * service's setting), so that receivers can move to the new one without missing a delivery.
     */
    async rotateSecret(actor: Actor, id: string, overlapMs?: number): Promise<Endpoint> {
      const secret = newSigningSecret();
      const at = clock.now();
      const row = await store.rotateSecret(pool, id, visibility(actor), {
        secret: secrets.seal(secret, id),
        previousExpiresAt: new Date(at.getTime() + (overlapMs ?? deps.rotationOverlapMs)),
        at,
      });
      if (row === undefined) throw notFound(id);
      return { ...shown(row), secret };
    },

    async deliveries(actor: Actor, id: string, limit: number, cursor?: string): Promise<DeliveryPage> {
      await visibleEndpoint(actor, id);
      const after = cursor === undefined ? undefined : deliveryCursor.decode(cursor);
      const rows = await deliveryStore.listDeliveries(pool, id, { limit: limit + 1, after });
      const { items, nextPageToken } = takePage(rows, limit, (last) => deliveryCursor.encode(last));
      return { data: items, nextCursor: nextPageToken };
    },

    async attempts(actor: Actor, id: string, deliveryId: string): Promise<AttemptRow[]> {
      await visibleEndpoint(actor, id);
      const delivery = await deliveryStore.delivery(pool, id, deliveryId);
      if (delivery === undefined) {
        throw new NotificationsError("NOT_FOUND", "delivery not found", { delivery_id: deliveryId });
      }
      return deliveryStore.attempts(pool, deliveryId);
    },

    /** The delivery's event again, as a new delivery due now (same event id). */
    async resend(actor: Actor, id: string, deliveryId: string): Promise<DeliveryRow> {
      await visibleEndpoint(actor, id);
      const row = await deliveryStore.resend(pool, id, deliveryId, clock.now());
      if (row === undefined) {
        throw new NotificationsError("NOT_FOUND", "delivery not found", { delivery_id: deliveryId });
      }
      deps.queued();
      return row;
    },

    /** Every kept event since `since` that the endpoint takes, queued again; returns how many. */
    async replay(actor: Actor, id: string, since: Date): Promise<number> {
      await visibleEndpoint(actor, id);
      const queued = await deliveryStore.replay(pool, id, since, clock.now());
      if (queued > 0) deps.queued();
      return queued;
    },

    /**
     * Keeps a batch of consumed events, each under the id it was published with, and queues each new one for
     * every endpoint that takes it, in one statement (the consumers' RecordEvents). Returns how many deliveries
     * were queued.
     */
    async record(tx: Queryable, events: ReadonlyArray<{ id: string; event: WebhookEvent }>): Promise<number> {
      return deliveryStore.recordEvents(
        tx,
        events.map(({ id, event }) => ({
          id,
          type: event.type,
          userId: event.userId,
          body: JSON.stringify({
            id,
            type: event.type,
            created_at: event.occurredAt.toISOString(),
            data: event.data,
          }),
          occurredAt: event.occurredAt,
        })),
        clock.now(),
      );
    },
  };
}

/** The webhook service's interface, as routes.ts and the tests see it. */
export type WebhookService = ReturnType<typeof createWebhookService>;

/** An endpoint without its sealed secrets. */
function shown(row: EndpointRow): Endpoint {
  const { secret: _secret, previousSecret: _previous, ...rest } = row;
  return rest;
}
