/** Stops whatever {@link startContainersIfNeeded} started; a no-op when it started nothing. */
export type StopContainers = () => Promise<void>;

const ENV_VARS = ["DATABASE_URL", "NATS_URL", "REDIS_URL"] as const;

/**
 * For a vitest `globalSetup` file (`export { startContainersIfNeeded as default } from "@fintech/testing"`):
 * when none of DATABASE_URL, NATS_URL, REDIS_URL is set and a container engine is reachable, starts throwaway
 * Postgres (`postgres:17`), NATS (`nats:2.10 -js`) and Redis (`redis:7`) containers and sets the three variables
 * for the test workers, which vitest starts after global setup and which inherit the environment. Otherwise it
 * changes nothing, so {@link testEnv} falls back to the local servers. Returns the teardown vitest calls at the end.
 *
 * testcontainers is imported only on that path, so machines with configured or local servers never load it.
 */
export async function startContainersIfNeeded(): Promise<StopContainers> {
  if (ENV_VARS.some((name) => process.env[name])) return async () => {};
  const tc = await import("testcontainers");
  try {
    await tc.getContainerRuntimeClient();
  } catch {
    // No engine here: the local servers are the documented fallback, so this is not a failure.
    return async () => {};
  }
  const { PostgreSqlContainer } = await import("@testcontainers/postgresql");
  const started = await Promise.allSettled([
    new PostgreSqlContainer("postgres:17").start(),
    new tc.GenericContainer("nats:2.10")
      .withCommand(["-js"])
      .withExposedPorts(4222)
      .withWaitStrategy(tc.Wait.forLogMessage(/Server is ready/))
      .start(),
    new tc.GenericContainer("redis:7")
      .withExposedPorts(6379)
      .withWaitStrategy(tc.Wait.forLogMessage(/Ready to accept connections/))
      .start(),
  ] as const);
  const [postgres, nats, redis] = started;
  if (postgres.status === "rejected" || nats.status === "rejected" || redis.status === "rejected") {
    await Promise.all(started.map((s) => (s.status === "fulfilled" ? s.value.stop() : undefined)));
    const reasons = started.flatMap((s) => (s.status === "rejected" ? [s.reason] : []));
    throw new AggregateError(reasons, "starting test containers failed");
  }
  process.env.DATABASE_URL = postgres.value.getConnectionUri();
  process.env.NATS_URL = `nats://${nats.value.getHost()}:${nats.value.getMappedPort(4222)}`;
  process.env.REDIS_URL = `redis://${redis.value.getHost()}:${redis.value.getMappedPort(6379)}`;
  return async () => {
    for (const name of ENV_VARS) delete process.env[name];
    await Promise.all([postgres.value.stop(), nats.value.stop(), redis.value.stop()]);
  };
}
