import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Authenticator } from "@fintech/auth";
import { createAuthInterceptor, defineAccess } from "@fintech/auth";
import { createExclusiveJob } from "@fintech/db";
import { createOutboxRelay, relaySettings } from "@fintech/events";
import type { Clock, ListenOptions, ListenResult } from "@fintech/platform";
import { createReadiness, createServer } from "@fintech/platform";
import { file_fintech_audit_v1_audit } from "@fintech/proto/fintech/audit/v1/audit_pb.js";
import { AuditService } from "@fintech/proto/fintech/notifications/v1/audit_pb.js";
import { file_fintech_notifications_v1_events } from "@fintech/proto/fintech/notifications/v1/events_pb.js";
import { WebhookService } from "@fintech/proto/fintech/notifications/v1/notifications_pb.js";
import type { NatsConnection } from "@nats-io/transport-node";
import type pg from "pg";
import type { Logger } from "pino";
import { auditPurposes } from "./audit-consumer.js";
import { auditRoutes } from "./audit-routes.js";
import { createAuditSealer } from "./audit-sealer.js";
import { createAuditService } from "./audit-service.js";
import { createAuditSigner } from "./audit-signer.js";
import type { NotificationsConfig } from "./config.js";
import { createStreamConsumers } from "./consumers.js";
import { createDeliveryWorker } from "./delivery-worker.js";
import { toConnectError } from "./errors.js";
import { webhookPurposes } from "./events.js";
import { mailPurposes } from "./mail-events.js";
import { mailMetrics } from "./mail-metrics.js";
import type { RecipientLookup } from "./mail-outbox.js";
import { createMailOutbox } from "./mail-outbox.js";
import type { MailSender } from "./mail-sender.js";
import { smtpMailSender } from "./mail-sender.js";
import { mailStore } from "./mail-store.js";
import { preferencesAccess, preferencesRoutes } from "./preferences-routes.js";
import { notificationsRoutes } from "./routes.js";
import { createSecretBox, DEVELOPMENT_SECRET_KEY } from "./secret-box.js";
import { createTargetPolicy } from "./target-policy.js";
import { auditValidation, notificationsValidation } from "./validation.js";
import type { WebhookSender } from "./webhook-sender.js";
import { createWebhookSender } from "./webhook-sender.js";
import { createWebhookService } from "./webhook-service.js";

/** The notifications service's SQL migrations. */
export const migrationsDir = join(dirname(fileURLToPath(import.meta.url)), "..", "migrations");

export interface NotificationsDeps {
  pool: pg.Pool;
  /** Verifies every caller (see connectIdentity): users (API keys included) manage their own webhooks. */
  authenticator: Authenticator;
  nc: NatsConnection;
  logger: Logger;
  clock: Clock;
  /** Where a user's address comes from when no identity event has told it yet (identity, as this service). */
  recipients: RecipientLookup;
  /** How e-mail leaves; default SMTP to SMTP_URL. */
  mailSender?: MailSender;
  /** How deliveries are POSTed; default the real sender (tests may slow or break it). */
  send?: WebhookSender;
  /** [0, 1) for retry jitter; default Math.random. */
  random?: () => number;
}

/**
 * Builds the notifications service, unstarted: its gRPC server, the consumers that turn other services' events
 * into webhook events, the delivery worker and its outbox relay. Migrations and the event
 * streams are the caller's (start.ts, or a test's fixtures).
 */
export function build(config: NotificationsConfig, deps: NotificationsDeps) {
  const { pool, nc, logger, clock, authenticator } = deps;
  if (config.WEBHOOK_SECRET_KEY === undefined) {
    logger.warn("WEBHOOK_SECRET_KEY is not set: webhook secrets are sealed with the public development key");
  }
  const secrets = createSecretBox(config.WEBHOOK_SECRET_KEY ?? DEVELOPMENT_SECRET_KEY);
  const targets = createTargetPolicy({
    allowHttp: config.WEBHOOK_ALLOW_HTTP,
    allowPrivate: config.WEBHOOK_ALLOW_PRIVATE_TARGETS,
  });
  const worker = createDeliveryWorker({
    pool,
    clock,
    logger,
    secrets,
    send: deps.send ?? createWebhookSender({ targets, timeoutMs: config.WEBHOOK_TIMEOUT_MS }),
    settings: {
      concurrency: config.WEBHOOK_CONCURRENCY,
      endpointConcurrency: config.WEBHOOK_ENDPOINT_CONCURRENCY,
      pollIntervalMs: config.WEBHOOK_POLL_INTERVAL_MS,
      // Longer than any attempt: a claimed delivery is another worker's only once its own has surely died.
      leaseMs: 2 * config.WEBHOOK_TIMEOUT_MS + 5_000,
      retryPeriodMs: config.WEBHOOK_RETRY_HOURS * 3_600_000,
    },
    ...(deps.random === undefined ? {} : { random: deps.random }),
  });
  const webhooks = createWebhookService({
    pool,
    clock,
    secrets,
    targets,
    rotationOverlapMs: config.WEBHOOK_ROTATION_OVERLAP_HOURS * 3_600_000,
    queued: () => worker.wake(),
  });
  if (config.AUDIT_SIGNING_KEY === undefined) {
    logger.warn(
      "AUDIT_SIGNING_KEY is not set: audit checkpoints are signed with a key made for this start, which a restart forgets",
    );
  }
  const signer = createAuditSigner(config.AUDIT_SIGNING_KEY, config.AUDIT_TRUSTED_KEYS);
  const audit = {
    service: createAuditService({ pool, signer }),
    sealer: createAuditSealer({
      pool,
      clock,
      logger,
      signer,
      intervalMs: config.AUDIT_SEAL_INTERVAL_MS,
      checkpointEvery: config.AUDIT_CHECKPOINT_EVERY,
      checkpointIntervalMs: config.AUDIT_CHECKPOINT_INTERVAL_MS,
    }),
  };
  const mailSender =
    deps.mailSender ?? smtpMailSender(config.SMTP_URL, { timeoutMs: config.SMTP_TIMEOUT_MS });
  const mail = createMailOutbox({
    pool,
    clock,
    sender: mailSender,
    lookupRecipient: deps.recipients,
    logger,
    onOutcome: (outcome) => mailMetrics().mails.inc({ outcome }),
    settings: {
      from: config.MAIL_FROM,
      concurrency: config.MAIL_SEND_CONCURRENCY,
      batchSize: config.MAIL_SEND_BATCH_SIZE,
      pollIntervalMs: config.MAIL_POLL_INTERVAL_MS,
      maxAttempts: config.MAIL_MAX_ATTEMPTS,
      backoffMs: config.MAIL_RETRY_MS,
      maxBackoffMs: config.MAIL_RETRY_MAX_MS,
    },
  });
  const consumers = createStreamConsumers(
    { pool, nc, namespace: config.EVENTS_NAMESPACE, logger, lingerMs: config.EVENT_BATCH_LINGER_MS },
    [
      ...webhookPurposes({
        record: (tx, events) => webhooks.record(tx, events),
        queued: () => worker.wake(),
      }),
      ...mailPurposes({ logger, clock }),
      ...auditPurposes({ clock }),
    ],
  );
  // Every replica schedules it; the one holding its advisory lock deletes, in batches, the others skip.
  const mailPruner = createExclusiveJob({
    pool,
    name: "notifications.mail-pruner",
    intervalMs: 600_000,
    run: async (signal) => {
      const before = new Date(clock.now().getTime() - config.MAIL_RETENTION_DAYS * 86_400_000);
      while (!signal.aborted && (await mailStore.pruneTransactions(pool, before, 1_000)) === 1_000) {
        // a full batch: there may be more
      }
      while (!signal.aborted && (await mailStore.pruneFinished(pool, before, 1_000)) === 1_000) {
        // a full batch: there may be more
      }
    },
    onError: (err) => logger.warn({ err }, "deleting old mails failed"),
  });
  const userPreferences = preferencesRoutes({ pool, clock });
  const server = createServer({
    name: "notifications",
    routes: (router) => {
      notificationsRoutes(webhooks)(router);
      auditRoutes(audit.service)(router);
      userPreferences(router);
    },
    files: [file_fintech_notifications_v1_events, file_fintech_audit_v1_audit],
    logger,
    mapError: toConnectError,
    interceptors: [
      createAuthInterceptor({ authenticator }),
      webhookAccess,
      auditAccess,
      preferencesAccess,
      notificationsValidation,
      auditValidation,
    ],
    metricsPort: config.METRICS_PORT,
    reflection: config.GRPC_REFLECTION,
    maxConnectionAgeMs: config.MAX_CONNECTION_AGE_MS,
    readiness: createReadiness({ db: pool, nats: nc }),
  });
  const relay = createOutboxRelay({
    pool,
    nc,
    source: "notifications",
    logger,
    ...relaySettings(config),
  });

  return {
    webhooks,
    audit,
    mail,
    mailPruner,
    worker,
    server,
    relay,
    async start(listen: ListenOptions = { port: config.PORT, host: config.HOST }): Promise<ListenResult> {
      relay.start();
      for (const consumer of consumers) await consumer.start();
      audit.sealer.start();
      mail.start();
      mailPruner.start();
      worker.start();
      return server.listen(listen);
    },
    async stop(): Promise<void> {
      await server.close();
      await audit.sealer.stop();
      await mail.stop();
      await mailPruner.stop();
      await worker.stop();
      for (const consumer of consumers) await consumer.stop();
      await relay.stop();
      mailSender.close();
    },
  };
}

// Who may call what, checked before validation. Webhooks are users' (a partner's API key acts as its user);
// which endpoints a user sees is the store's rule (their own, and an admin the platform-wide ones).
const webhookAccess = defineAccess(WebhookService, {
  createWebhook: "user",
  listWebhooks: "user",
  getWebhook: "user",
  updateWebhook: "user",
  deleteWebhook: "user",
  rotateWebhookSecret: "user",
  listWebhookDeliveries: "user",
  listWebhookDeliveryAttempts: "user",
  resendWebhookDelivery: "user",
  replayWebhookEvents: "user",
});

// The audit trail is for admins only.
const auditAccess = defineAccess(AuditService, {
  listAuditRecords: "admin",
  verifyAudit: "admin",
});
