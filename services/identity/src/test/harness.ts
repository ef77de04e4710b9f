import type { CallOptions, createClient } from "@connectrpc/connect";
import { IdentityService } from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import type { TestClock } from "@fintech/testing";
import { serviceTest } from "@fintech/testing";
import { parseIdentityConfig } from "../config.js";
import { build, migrationsDir } from "../server.js";

export const ADMIN_EMAIL = "root@example.com";
export const ADMIN_PASSWORD = "Admin password 42";
export const GATEWAY_SECRET = "gateway-secret-for-tests-0123456789";
export const WALLET_SECRET = "wallet-secret-for-tests-0123456789";
/** A password the policy accepts. */
export const PASSWORD = "plum-Orchard-77";

export type IdentityClient = ReturnType<typeof createClient<typeof IdentityService>>;

export interface IdentityHarness {
  url: string;
  port: number;
  client: IdentityClient;
  clock: TestClock;
  app: ReturnType<typeof build>;
  namespace: string;
  /** Every log line the service wrote, parsed (level trace and up). */
  logs: string[];
  /** Registers a user (email made unique per call when it has no "@") and logs them in. */
  signUp(name?: string): Promise<{ id: string; email: string; accessToken: string; refreshToken: string }>;
  /** Logs the configured admin in. */
  adminToken(): Promise<string>;
  /** A service token for "gateway". */
  serviceToken(): Promise<string>;
}

/** The secret with its last character changed (always a different string). */
export const tamper = (secret: string): string => `${secret.slice(0, -1)}${secret.endsWith("A") ? "B" : "A"}`;

/** Call options sending `authorization: Bearer <token>`. */
export const bearer = (token: string): CallOptions => ({ headers: { authorization: `Bearer ${token}` } });

let seq = 0;

/**
 * The identity service on a real port, over this file's Postgres schema and NATS namespace, with an admin
 * (ADMIN_EMAIL) and service credentials for gateway and wallet. Extra env comes from `env`.
 */
export function identityTest(env: Record<string, string> = {}) {
  return serviceTest("identity", async (kit): Promise<IdentityHarness> => {
    const config = kit.config(parseIdentityConfig, {
      ADMIN_EMAIL,
      ADMIN_PASSWORD,
      SERVICE_CREDENTIALS: `gateway:${GATEWAY_SECRET},wallet:${WALLET_SECRET}`,
      ...env,
    });
    await kit.prepare({ migrations: [migrationsDir], streams: ["identity"] });
    const log = kit.recordLogs("identity", "trace");
    const app = build(config, { ...kit.deps, logger: log.logger });
    const { url, port } = await kit.start(app);
    const client = kit.client(IdentityService, url);
    return {
      url,
      port,
      client,
      clock: kit.clock,
      app,
      namespace: kit.nats.namespace,
      logs: log.lines,
      async signUp(name = "user") {
        const email = name.includes("@") ? name : `${name}-${++seq}-${Date.now()}@example.com`;
        const { user } = await client.register({ email, password: PASSWORD, fullName: `Test ${name}` });
        const tokens = await client.login({ email, password: PASSWORD });
        return {
          id: user?.id ?? "",
          email,
          accessToken: tokens.accessToken,
          refreshToken: tokens.refreshToken,
        };
      },
      async adminToken() {
        return (await client.login({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD })).accessToken;
      },
      async serviceToken() {
        return (await client.issueServiceToken({ clientId: "gateway", clientSecret: GATEWAY_SECRET }))
          .accessToken;
      },
    };
  });
}

export { expectRefusal, publishedEvents, TestClock } from "@fintech/testing";
