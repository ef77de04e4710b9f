/** Where the integration-test servers are. */
export interface TestEnv {
  /** Postgres URL (`DATABASE_URL`). */
  databaseUrl: string;
  /** NATS server with JetStream (`NATS_URL`). */
  natsUrl: string;
  /** Redis URL (`REDIS_URL`). */
  redisUrl: string;
}

/** The servers a developer or CI machine runs locally on their default ports. */
export const LOCAL_TEST_ENV: Readonly<TestEnv> = Object.freeze({
  databaseUrl: "postgres://postgres@127.0.0.1:5432/postgres",
  natsUrl: "nats://127.0.0.1:4222",
  redisUrl: "redis://127.0.0.1:6379",
});

/**
 * Reads DATABASE_URL, NATS_URL and REDIS_URL, each falling back to {@link LOCAL_TEST_ENV}
 * (postgres://postgres@127.0.0.1:5432/postgres, nats://127.0.0.1:4222, redis://127.0.0.1:6379).
 * Read on every call, so values set by {@link startContainersIfNeeded} in a global setup are seen.
 */
export function testEnv(): TestEnv {
  return {
    databaseUrl: process.env.DATABASE_URL || LOCAL_TEST_ENV.databaseUrl,
    natsUrl: process.env.NATS_URL || LOCAL_TEST_ENV.natsUrl,
    redisUrl: process.env.REDIS_URL || LOCAL_TEST_ENV.redisUrl,
  };
}
