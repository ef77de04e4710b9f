import type { RateSource } from "@fintech/analytics";
import {
  migrationsDir as analyticsMigrations,
  build as buildAnalytics,
  parseAnalyticsConfig,
  staticRates,
} from "@fintech/analytics";
import type { Role } from "@fintech/auth";
import { createAuthenticator, createJwtVerifier } from "@fintech/auth";
import { migrate } from "@fintech/db";
import { ensureStream, eventsMigrationsDir } from "@fintech/events";
import { parseRate } from "@fintech/money";
import { test as base } from "@fintech/testing";
import pino from "pino";
import { parseGatewayConfig } from "../config.js";
import { build } from "../server.js";
import type { CallInit } from "./harness.js";
import { AUDIENCE, caller, ISSUER, memoryLog, testSigner } from "./harness.js";

export interface AnalyticsGatewayHarness {
  /** The gateway's base URL. */
  url: string;
  /** An access token of this user (roles default ["user"]). */
  token(userId: string, roles?: Role[]): Promise<string>;
  /** fetch against the gateway. */
  call: (path: string, init?: CallInit) => Promise<Response>;
  /** The user ids identity knows, as far as imports ask. */
  users: Set<string>;
  /** Users' time zones and default currencies, as identity would give them (unknown: UTC and MYR). */
  profiles: Map<string, { timezone: string; defaultCurrency: string }>;
}

/**
 * Fixed rates (1 SGD = 3.50 MYR, 1 USD = 4.70 MYR), except that SGD was 3.40 MYR on 2026-04-02 (a day's own rate
 * for conversions at the day's rate).
 */
function testRates(): RateSource {
  const fixed = staticRates(
    [
      { base: "SGD", quote: "MYR", rate: parseRate("3.50") },
      { base: "USD", quote: "MYR", rate: parseRate("4.70") },
    ],
    "MYR",
  );
  return {
    rateToBase: (currency) => fixed.rateToBase(currency),
    rateToBaseOn: async (currency, day) =>
      currency === "SGD" && day === "2026-04-02" ? parseRate("3.40") : fixed.rateToBase(currency),
  };
}

/**
 * The gateway on a real port in front of the real analytics service (this file's Postgres schema, NATS
 * namespace and Redis prefix; system clock; the rates of testRates). Both verify tokens of a test signing key;
 * identity stands in as a set of user ids and a map of profiles.
 */
export function analyticsGatewayTest() {
  return base.extend<{ $file: { gw: AnalyticsGatewayHarness } }>({
    gw: [
      async ({ pg, nats, redis }, use) => {
        const signer = await testSigner();
        const authenticator = createAuthenticator({
          jwt: createJwtVerifier({
            getJwks: async () => ({ keys: [signer.publicJwk] }),
            issuer: ISSUER,
            audience: AUDIENCE,
          }),
        });
        await migrate({ url: pg.url, schema: pg.schema, dirs: [eventsMigrationsDir, analyticsMigrations] });
        for (const context of ["wallet", "analytics", "fraud", "identity"]) {
          await ensureStream(nats.nc, { context, namespace: nats.namespace });
        }
        const users = new Set<string>();
        const profiles = new Map<string, { timezone: string; defaultCurrency: string }>();
        const analytics = buildAnalytics(
          {
            ...parseAnalyticsConfig({
              DB_SCHEMA: pg.schema,
              EVENTS_NAMESPACE: nats.namespace,
              REDIS_PREFIX: redis.prefix,
              ANALYTICS_MOVER_INTERVAL_MS: "86400000",
            }),
            METRICS_PORT: 0,
          },
          {
            pool: pg.pool,
            nc: nats.nc,
            redis: redis.client,
            logger: pino({ level: "silent" }),
            clock: { now: () => new Date() },
            rates: testRates(),
            authenticator,
            users: {
              exists: async (userId) => users.has(userId),
              profile: async (userId) => profiles.get(userId),
            },
          },
        );
        const analyticsAt = await analytics.start({ port: 0, host: "127.0.0.1" });
        const config = {
          ...parseGatewayConfig({
            BACKENDS: "analytics",
            ANALYTICS_URL: analyticsAt.url,
            RATE_LIMIT_PREFIX: redis.prefix,
            RATE_LIMIT_RPS: "10000",
            RATE_LIMIT_BURST: "10000",
          }),
          METRICS_PORT: 0,
        };
        const app = build(config, { redis: redis.client, logger: memoryLog().logger, authenticator });
        const { url } = await app.start({ port: 0, host: "127.0.0.1" });
        try {
          await use({
            url,
            token: (userId, roles = ["user"]) =>
              signer.token({ kind: "user", userId, roles, credential: "jwt" }),
            call: caller(url),
            users,
            profiles,
          });
        } finally {
          await app.stop();
          await analytics.stop();
        }
      },
      { scope: "file" },
    ],
  });
}
