import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { withTransaction } from "@fintech/db";
import { enqueue } from "@fintech/events";
import type { Clock } from "@fintech/platform";
import { WebhookDisabledSchema } from "@fintech/proto/fintech/notifications/v1/events_pb.js";
import type pg from "pg";
import type { Logger } from "pino";
import { retryDelayMs } from "./backoff.js";
import type { SecretBox } from "./secret-box.js";
import { signWebhook } from "./signing.js";
import type { ClaimedDelivery } from "./store.js";
import { deliveryStore, store } from "./store.js";
import type { SendResult, WebhookSender } from "./webhook-sender.js";

/** How the worker paces itself; see {@link createDeliveryWorker}. */
export interface DeliverySettings {
  /** Deliveries in flight in this process at most. */
  concurrency: number;
  /** Deliveries in flight to one endpoint at most, across every replica. */
  endpointConcurrency: number;
  /** How often it looks for due deliveries when nothing woke it, in milliseconds. */
  pollIntervalMs: number;
  /** How long a claimed delivery is its worker's before another may take it (more than the timeout), in ms. */
  leaseMs: number;
  /** How long a delivery is retried, and an endpoint may keep failing before it is disabled, in ms. */
  retryPeriodMs: number;
}

/** The delivery worker: start() it once; wake() after queuing deliveries; stop() waits for those in flight. */
export interface DeliveryWorker {
  start(): void;
  wake(): void;
  stop(): Promise<void>;
}

/**
 * Sends due deliveries: it claims them endpoint by endpoint (at most `endpointConcurrency` in flight per endpoint
 * across replicas, so a slow receiver holds only its own slots and never delays another's), signs each attempt
 * with the endpoint's current secret (and the previous one during a rotation), and records the attempt. A 2xx
 * ends the delivery; anything else (another status, a timeout, a refused address) schedules the next attempt
 * with exponential backoff and jitter from `clock`, until `retryPeriodMs` after the delivery was made, when it
 * fails. An endpoint whose delivery fails for good without a success since that delivery's first attempt (so,
 * failing for the whole retry period) is disabled and notifications.webhook.disabled is published for its owner.
 */
export function createDeliveryWorker(deps: {
  pool: pg.Pool;
  clock: Clock;
  logger: Logger;
  secrets: SecretBox;
  send: WebhookSender;
  settings: DeliverySettings;
  /** [0, 1) for the jitter; default Math.random. */
  random?: () => number;
}): DeliveryWorker {
  const { pool, clock, secrets, send, settings } = deps;
  const random = deps.random ?? Math.random;
  const log = deps.logger.child({ component: "webhook-delivery" });
  const perEndpoint = new Map<string, number>();
  const inFlight = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let looking: Promise<void> | undefined;
  let again = false;

  const deliver = async (d: ClaimedDelivery): Promise<void> => {
    const startedAt = clock.now();
    const endpoint = await store.endpointById(pool, d.endpointId);
    let result: SendResult;
    if (endpoint === undefined) return; // deleted meanwhile: its deliveries went with it
    try {
      const keys = [secrets.open(endpoint.secret, endpoint.id)];
      if (
        endpoint.previousSecret !== undefined &&
        endpoint.previousSecretExpiresAt !== undefined &&
        endpoint.previousSecretExpiresAt > startedAt
      ) {
        keys.push(secrets.open(endpoint.previousSecret, endpoint.id));
      }
      const headers = signWebhook(keys, d.eventId, startedAt, d.body);
      result = await send(endpoint.url, { ...headers }, d.body);
    } catch (err) {
      // A secret that does not open (WEBHOOK_SECRET_KEY changed) is never worked around by sending unsigned.
      log.error({ err, webhookId: endpoint.id, deliveryId: d.id }, "webhook not sent");
      result = { error: "not sent: the endpoint's secret cannot be read", durationMs: 0 };
    }
    const ok = result.status !== undefined && result.status >= 200 && result.status < 300;
    const at = clock.now();
    const next = new Date(at.getTime() + retryDelayMs(d.attempt, random()));
    const givingUp = !ok && next.getTime() - d.createdAt.getTime() > settings.retryPeriodMs;
    const error = ok ? "" : result.error || `answered ${result.status}`;
    await withTransaction(pool, async (tx) => {
      await deliveryStore.insertAttempt(tx, {
        deliveryId: d.id,
        attempt: d.attempt,
        startedAt,
        durationMs: result.durationMs,
        ...(result.status === undefined ? {} : { code: result.status }),
        error,
      });
      const settled = await deliveryStore.settle(tx, {
        id: d.id,
        attempt: d.attempt,
        status: ok ? "succeeded" : givingUp ? "failed" : "pending",
        next: ok || givingUp ? undefined : next,
        code: result.status,
        error,
        at,
      });
      if (!settled) return;
      if (ok) {
        await deliveryStore.endpointSucceeded(tx, d.endpointId);
        return;
      }
      const disabled = await deliveryStore.endpointFailed(tx, {
        endpointId: d.endpointId,
        deliveryId: d.id,
        startedAt,
        givingUp,
        at,
      });
      if (disabled !== undefined) {
        await enqueue(tx, {
          type: "notifications.webhook.disabled",
          schema: WebhookDisabledSchema,
          message: create(WebhookDisabledSchema, {
            webhookId: d.endpointId,
            userId: disabled.userId ?? "",
            url: disabled.url,
            failingSince: timestampFromDate(disabled.failingSince),
            disabledAt: timestampFromDate(at),
          }),
        });
        log.warn({ webhookId: d.endpointId }, "webhook endpoint disabled after failing for the retry period");
      }
    });
  };

  const launch = (d: ClaimedDelivery) => {
    perEndpoint.set(d.endpointId, (perEndpoint.get(d.endpointId) ?? 0) + 1);
    const work = deliver(d)
      .catch((err: unknown) => log.error({ err, deliveryId: d.id }, "webhook delivery not recorded"))
      .finally(() => {
        const left = (perEndpoint.get(d.endpointId) ?? 1) - 1;
        if (left === 0) perEndpoint.delete(d.endpointId);
        else perEndpoint.set(d.endpointId, left);
        inFlight.delete(work);
        // A slot is free: look for more at once.
        if (running) wake();
      });
    inFlight.add(work);
  };

  const look = async (): Promise<void> => {
    const now = clock.now();
    const endpoints = await deliveryStore.dueEndpoints(pool, now, 100);
    for (const endpointId of endpoints) {
      const room = Math.min(
        settings.endpointConcurrency - (perEndpoint.get(endpointId) ?? 0),
        settings.concurrency - inFlight.size,
      );
      if (room <= 0) continue;
      const claimed = await deliveryStore.claim(pool, endpointId, {
        take: room,
        bound: settings.endpointConcurrency,
        now,
        leaseUntil: new Date(now.getTime() + settings.leaseMs),
      });
      for (const d of claimed) launch(d);
      if (inFlight.size >= settings.concurrency) break;
    }
  };

  const wake = (): void => {
    if (!running) return;
    if (looking !== undefined) {
      again = true;
      return;
    }
    looking = (async () => {
      do {
        again = false;
        try {
          await look();
        } catch (err) {
          log.warn({ err }, "looking for due webhook deliveries failed; trying again at the next poll");
        }
      } while (again && running);
    })().finally(() => {
      looking = undefined;
    });
  };

  return {
    start() {
      if (running) return;
      running = true;
      timer = setInterval(wake, settings.pollIntervalMs);
      wake();
    },
    wake,
    async stop() {
      running = false;
      clearInterval(timer);
      await looking;
      await Promise.all([...inFlight]);
    },
  };
}
