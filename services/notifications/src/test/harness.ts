import { randomUUID } from "node:crypto";
import type { DescMessage, MessageInitShape } from "@bufbuild/protobuf";
import { create, toBinary } from "@bufbuild/protobuf";
import type { createClient } from "@connectrpc/connect";
import type { Principal } from "@fintech/auth";
import { auditSubject } from "@fintech/auth";
import { CloudEventHeaders, namespacedSubject, PROTOBUF_CONTENT_TYPE } from "@fintech/events";
import { AuditEntrySchema } from "@fintech/proto/fintech/audit/v1/audit_pb.js";
import { AuditService } from "@fintech/proto/fintech/notifications/v1/audit_pb.js";
import { WebhookService } from "@fintech/proto/fintech/notifications/v1/notifications_pb.js";
import { PreferencesService } from "@fintech/proto/fintech/notifications/v1/preferences_pb.js";
import {
  TransactionEventSchema,
  TransactionStatus,
  TransactionType,
} from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import type { SmtpInbox, TestClock } from "@fintech/testing";
import { serviceTest, startSmtpInbox, testAdmin, testUser } from "@fintech/testing";
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { headers } from "@nats-io/transport-node";
import type pg from "pg";
import { parseNotificationsConfig } from "../config.js";
import type { NotificationsDeps } from "../server.js";
import { build, migrationsDir } from "../server.js";

type WebhookClient = ReturnType<typeof createClient<typeof WebhookService>>;
type AuditClient = ReturnType<typeof createClient<typeof AuditService>>;
type PreferencesClient = ReturnType<typeof createClient<typeof PreferencesService>>;

export interface NotificationsHarness {
  url: string;
  port: number;
  /** A webhook client calling as the principal given, or anonymously. */
  webhooksAs(principal?: Principal): WebhookClient;
  /** A webhook client calling as the user with this id (a UUID), an admin when `admin`. */
  asUser(userId: string, opts?: { admin?: boolean }): WebhookClient;
  /** An audit trail client calling as the principal given, or anonymously. */
  auditAs(principal?: Principal): AuditClient;
  clock: TestClock;
  pool: pg.Pool;
  /** Where this file's schema is, for a process of the test's own (another replica, a crashing sender). */
  pg: { url: string; schema: string };
  nc: NatsConnection;
  namespace: string;
  app: ReturnType<typeof build>;
  /** An access token for the principal (for raw clients). */
  token(principal: Principal): Promise<string>;
  /** The notification preferences of the user with this id, as that user. */
  preferencesAs(userId: string): PreferencesClient;
  /** The SMTP server the service sends e-mail to (SMTP_URL), keeping every mail it receives. */
  inbox: SmtpInbox;
  /** Identity as the service's address lookup sees it: user id -> e-mail (add one, or publish its events). */
  addresses: Map<string, string>;
  /** Publishes an event on this file's namespaced streams, with the CloudEvents headers consumers read. */
  publish<Desc extends DescMessage>(
    type: string,
    schema: Desc,
    message: MessageInitShape<Desc>,
    id: string,
  ): Promise<void>;
  /** Publishes a wallet.transaction.<change> event. */
  publishTransaction(
    type: string,
    event: MessageInitShape<typeof TransactionEventSchema>,
    id: string,
  ): Promise<void>;
}

/**
 * The notifications service on a real port over this file's Postgres schema and NATS namespace. Receivers in
 * tests listen on loopback over http, so both are allowed unless `env` says otherwise.
 */
export function notificationsTest(
  env: Record<string, string> = {},
  deps: Pick<NotificationsDeps, "send" | "random"> = {},
) {
  return serviceTest("notifications", async (kit): Promise<NotificationsHarness> => {
    const inbox = await startSmtpInbox();
    kit.defer(() => inbox.close());
    const config = kit.config(parseNotificationsConfig, {
      WEBHOOK_ALLOW_HTTP: "true",
      WEBHOOK_ALLOW_PRIVATE_TARGETS: "true",
      SMTP_URL: inbox.url,
      MAIL_POLL_INTERVAL_MS: "50",
      WEBHOOK_POLL_INTERVAL_MS: "50",
      ...env,
    });
    await kit.prepare({
      migrations: [migrationsDir],
      streams: ["notifications", "wallet", "fraud", "identity", "fx"],
    });
    // The service's clock starts at the real time, so that receivers' stock libraries accept the timestamps.
    kit.clock.set(new Date());
    const addresses = new Map<string, string>();
    const app = build(config, {
      ...kit.deps,
      ...deps,
      authenticator: kit.tokens.authenticator,
      recipients: async (userId) => {
        const email = addresses.get(userId);
        return email === undefined ? undefined : { email, deleted: false };
      },
    });
    const { url, port } = await kit.start(app);
    const webhooksAs = (principal?: Principal) => kit.client(WebhookService, url, principal);
    const harness: NotificationsHarness = {
      url,
      port,
      webhooksAs,
      asUser: (userId, opts = {}) => webhooksAs(opts.admin === true ? testAdmin(userId) : testUser(userId)),
      auditAs: (principal?: Principal) => kit.client(AuditService, url, principal),
      nc: kit.nats.nc,
      clock: kit.clock,
      pool: kit.deps.pool,
      pg: { url: kit.pg.url, schema: kit.pg.schema },
      namespace: kit.nats.namespace,
      app,
      token: (principal) => kit.tokens.token(principal),
      preferencesAs: (userId) => kit.client(PreferencesService, url, testUser(userId)),
      inbox,
      addresses,
      async publish(type, schema, message, id) {
        const h = headers();
        h.set(CloudEventHeaders.specVersion, "1.0");
        h.set(CloudEventHeaders.id, id);
        h.set(CloudEventHeaders.type, type);
        h.set(CloudEventHeaders.source, type.split(".")[0] ?? "");
        h.set(CloudEventHeaders.time, new Date().toISOString());
        h.set(CloudEventHeaders.contentType, "application/protobuf");
        const payload = toBinary(schema, create(schema, message));
        await jetstream(kit.nats.nc).publish(namespacedSubject(type, kit.nats.namespace), payload, {
          headers: h,
        });
      },
      publishTransaction: (type, event, id) => harness.publish(type, TransactionEventSchema, event, id),
    };
    return harness;
  });
}

export { expectRefusal, TestClock } from "@fintech/testing";

/**
 * Publishes an audit entry on `<service>.audit.recorded` with the headers that service's outbox relay sets
 * (CloudEvents, Nats-Msg-Id), into the stream that holds the subject. `eventId` defaults to a new id; the
 * JetStream dedupe id is always fresh, so the same event id can arrive twice, as a relay's republish makes it.
 */
export async function publishAuditEntry(
  h: Pick<NotificationsHarness, "nc" | "namespace">,
  service: string,
  entry: MessageInitShape<typeof AuditEntrySchema>,
  opts: { eventId?: string } = {},
): Promise<string> {
  const id = opts.eventId ?? randomUUID();
  const type = auditSubject(service);
  const h2 = headers();
  h2.set(CloudEventHeaders.specVersion, "1.0");
  h2.set(CloudEventHeaders.id, id);
  h2.set(CloudEventHeaders.type, type);
  h2.set(CloudEventHeaders.source, service);
  h2.set(CloudEventHeaders.time, new Date().toISOString());
  h2.set(CloudEventHeaders.contentType, PROTOBUF_CONTENT_TYPE);
  h2.set("Nats-Msg-Id", randomUUID());
  h.nc.publish(
    namespacedSubject(type, h.namespace),
    toBinary(AuditEntrySchema, create(AuditEntrySchema, { service, ...entry })),
    { headers: h2 },
  );
  await h.nc.flush();
  return id;
}

/** A completed purchase of `userId`'s, as the wallet's transaction events carry it. */
export const purchaseOf = (userId: string): MessageInitShape<typeof TransactionEventSchema> => ({
  transactionId: randomUUID(),
  userId,
  walletId: randomUUID(),
  type: TransactionType.PURCHASE,
  status: TransactionStatus.COMPLETED,
  amount: { amount: "45.50", currency: "MYR" },
  baseAmount: { amount: "45.50", currency: "MYR" },
  merchantName: "Kopi Corner",
  merchantCategory: "food_beverage",
  occurredAt: { seconds: BigInt(Math.floor(Date.now() / 1000)), nanos: 0 },
});

/** Publishes {@link purchaseOf} as `wallet.transaction.<change>`; returns the event id. */
export async function publishPurchase(
  n: Pick<NotificationsHarness, "publishTransaction">,
  userId: string,
  change = "completed",
): Promise<string> {
  const id = randomUUID();
  await n.publishTransaction(`wallet.transaction.${change}`, purchaseOf(userId), id);
  return id;
}
