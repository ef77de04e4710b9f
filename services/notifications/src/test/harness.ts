import type { createClient } from "@connectrpc/connect";
import type { Principal } from "@fintech/auth";
import { WebhookService } from "@fintech/proto/fintech/notifications/v1/notifications_pb.js";
import type { TestClock } from "@fintech/testing";
import { serviceTest, testAdmin, testUser } from "@fintech/testing";
import type pg from "pg";
import { parseNotificationsConfig } from "../config.js";
import { build, migrationsDir } from "../server.js";

type WebhookClient = ReturnType<typeof createClient<typeof WebhookService>>;

export interface NotificationsHarness {
  url: string;
  port: number;
  /** A webhook client calling as the principal given, or anonymously. */
  webhooksAs(principal?: Principal): WebhookClient;
  /** A webhook client calling as the user with this id (a UUID), an admin when `admin`. */
  asUser(userId: string, opts?: { admin?: boolean }): WebhookClient;
  clock: TestClock;
  pool: pg.Pool;
  namespace: string;
  app: ReturnType<typeof build>;
  /** An access token for the principal (for raw clients). */
  token(principal: Principal): Promise<string>;
}

/**
 * The notifications service on a real port over this file's Postgres schema and NATS namespace. Receivers in
 * tests listen on loopback over http, so both are allowed unless `env` says otherwise.
 */
export function notificationsTest(env: Record<string, string> = {}) {
  return serviceTest("notifications", async (kit): Promise<NotificationsHarness> => {
    const config = kit.config(parseNotificationsConfig, {
      WEBHOOK_ALLOW_HTTP: "true",
      WEBHOOK_ALLOW_PRIVATE_TARGETS: "true",
      ...env,
    });
    await kit.prepare({
      migrations: [migrationsDir],
      streams: ["notifications", "wallet", "fraud", "identity"],
    });
    const app = build(config, { ...kit.deps, authenticator: kit.tokens.authenticator });
    const { url, port } = await kit.start(app);
    const webhooksAs = (principal?: Principal) => kit.client(WebhookService, url, principal);
    return {
      url,
      port,
      webhooksAs,
      asUser: (userId, opts = {}) => webhooksAs(opts.admin === true ? testAdmin(userId) : testUser(userId)),
      clock: kit.clock,
      pool: kit.deps.pool,
      namespace: kit.nats.namespace,
      app,
      token: (principal) => kit.tokens.token(principal),
    };
  });
}

export { expectRefusal, TestClock } from "@fintech/testing";
