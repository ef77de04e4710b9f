import type { RateSource } from "@fintech/analytics";
import {
  migrationsDir as analyticsMigrations,
  build as buildAnalytics,
  parseAnalyticsConfig,
  staticRates,
} from "@fintech/analytics";
import type { Role } from "@fintech/auth";
import { parseRate } from "@fintech/money";
import { systemClock } from "@fintech/platform";
import { serviceTest, testUser } from "@fintech/testing";
import { parseGatewayConfig } from "../config.js";
import { build } from "../server.js";
import type { CallInit } from "./harness.js";
import { caller } from "./harness.js";

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
  return serviceTest("gw", async (kit): Promise<AnalyticsGatewayHarness> => {
    const { redis } = kit;
    const authenticator = kit.tokens.authenticator;
    await kit.prepare({
      migrations: [analyticsMigrations],
      streams: ["wallet", "analytics", "fraud", "identity"],
    });
    const users = new Set<string>();
    const profiles = new Map<string, { timezone: string; defaultCurrency: string }>();
    const analytics = buildAnalytics(
      kit.config(parseAnalyticsConfig, { ANALYTICS_MOVER_INTERVAL_MS: "86400000" }),
      {
        ...kit.deps,
        redis: redis.client,
        clock: systemClock,
        rates: testRates(),
        authenticator,
        users: {
          exists: async (userId) => users.has(userId),
          profile: async (userId) => profiles.get(userId),
        },
      },
    );
    const analyticsAt = await kit.start(analytics);
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
    const app = build(config, {
      redis: redis.client,
      logger: kit.recordLogs("gateway").logger,
      authenticator,
    });
    const { url } = await kit.start(app);
    return {
      url,
      token: (userId, roles = ["user"]) => kit.tokens.token(testUser(userId, roles)),
      call: caller(url),
      users,
      profiles,
    };
  });
}
