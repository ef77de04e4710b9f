import type { Logger } from "pino";

/** The part of an ioredis client that {@link watchRedis} listens to (kept structural: no ioredis dependency here). */
export interface RedisEvents {
  on(event: "error", listener: (err: Error) => void): unknown;
  on(event: "ready" | "end", listener: () => void): unknown;
}

/**
 * Logs a Redis client's connection life as structured lines without secrets (the error's message and code, never
 * the URL): the first error of an outage at warn ("redis connection error"), the retries of the same outage at
 * debug, and `redis ready` (info) when it connects again. Also keeps an `error` event from going unhandled, which
 * ioredis would print unstructured to stderr.
 */
export function watchRedis(redis: RedisEvents, logger: Logger, name = "redis"): void {
  const log = logger.child({ component: name });
  let failing = false;
  redis.on("error", (err) => {
    const line = { error: err.message, code: (err as { code?: unknown }).code };
    if (failing) {
      log.debug(line, "redis connection error (still failing)");
      return;
    }
    failing = true;
    log.warn(line, "redis connection error");
  });
  redis.on("ready", () => {
    log.info({ recovered: failing }, "redis ready");
    failing = false;
  });
  redis.on("end", () => log.warn("redis connection ended; no more reconnects"));
}
