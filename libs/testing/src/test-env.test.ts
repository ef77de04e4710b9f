import { afterEach, describe, expect, test, vi } from "vitest";
import { startContainersIfNeeded } from "./start-containers-if-needed.js";
import { LOCAL_TEST_ENV, testEnv } from "./test-env.js";

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("testEnv", () => {
  test("reads the three URLs from the environment", () => {
    vi.stubEnv("DATABASE_URL", "postgres://ci@db:5432/ci");
    vi.stubEnv("NATS_URL", "nats://bus:4222");
    vi.stubEnv("REDIS_URL", "redis://cache:6379");
    expect(testEnv()).toEqual({
      databaseUrl: "postgres://ci@db:5432/ci",
      natsUrl: "nats://bus:4222",
      redisUrl: "redis://cache:6379",
    });
  });

  test("falls back to the local servers for unset or empty variables", () => {
    vi.stubEnv("DATABASE_URL", undefined);
    vi.stubEnv("NATS_URL", "");
    vi.stubEnv("REDIS_URL", "redis://cache:6379");
    expect(testEnv()).toEqual({
      databaseUrl: LOCAL_TEST_ENV.databaseUrl,
      natsUrl: LOCAL_TEST_ENV.natsUrl,
      redisUrl: "redis://cache:6379",
    });
  });
});

describe("startContainersIfNeeded", () => {
  test("starts nothing and changes nothing when any URL is configured", async () => {
    vi.stubEnv("DATABASE_URL", "postgres://ci@db:5432/ci");
    vi.stubEnv("NATS_URL", undefined);
    vi.stubEnv("REDIS_URL", undefined);
    const stop = await startContainersIfNeeded();
    expect(process.env.NATS_URL).toBeUndefined();
    expect(process.env.REDIS_URL).toBeUndefined();
    await stop();
    expect(process.env.DATABASE_URL).toBe("postgres://ci@db:5432/ci");
  });
});
