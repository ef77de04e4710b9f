import { test as base } from "vitest";
import type { NatsFixture } from "./provide-nats.js";
import { provideNats } from "./provide-nats.js";
import type { PgFixture } from "./provide-pg.js";
import { providePg } from "./provide-pg.js";
import type { RedisFixture } from "./provide-redis.js";
import { provideRedis } from "./provide-redis.js";
import type { TestEnv } from "./test-env.js";
import { testEnv } from "./test-env.js";

/** Fixtures shared by every test in one file (`scope: "file"`), so files stay isolated and can run in parallel. */
export interface FileFixtures {
  pg: PgFixture;
  nats: NatsFixture;
  redis: RedisFixture;
}

/** Read once per worker. */
export interface WorkerFixtures {
  env: TestEnv;
}

/**
 * vitest's `test` with integration fixtures. Each test FILE gets its own Postgres schema (`pg`), NATS namespace
 * (`nats`) and Redis key prefix (`redis`), created on first use in the file and removed after its last test, in
 * `finally`. `env` holds the server URLs from {@link testEnv}. Only the fixtures a test destructures are set up.
 *
 * @example
 * test("stores a wallet", async ({ pg }) => {
 *   await migrate({ url: pg.url, schema: pg.schema, dirs: ["migrations"] });
 *   await pg.pool.query("SELECT 1");
 * });
 */
export const test = base.extend<{ $worker: WorkerFixtures; $file: FileFixtures }>({
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads fixture dependencies from a destructured first argument.
  env: [async ({}, use) => use(testEnv()), { scope: "worker" }],
  pg: [async ({ env }, use) => providePg(env.databaseUrl, use), { scope: "file" }],
  nats: [async ({ env }, use) => provideNats(env.natsUrl, use), { scope: "file" }],
  redis: [async ({ env }, use) => provideRedis(env.redisUrl, use), { scope: "file" }],
});
