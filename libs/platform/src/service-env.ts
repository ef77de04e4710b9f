import { z } from "zod";
import { envBool, envInt, envLogLevel, envPort, envUrl } from "./config.js";
import { DEFAULT_MAX_CONNECTION_AGE_MS } from "./server.js";

/** Where Postgres is when DATABASE_URL is unset: the local server `./dev start` uses. */
export const DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/postgres";
/** Where NATS is when NATS_URL is unset. */
export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";
/** Where Redis is when REDIS_URL is unset. */
export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

/**
 * The variables of every server, the gateway included: HOST (default 0.0.0.0), PORT and METRICS_PORT (defaults
 * the given ports) and LOG_LEVEL (default info). Spread it into a config's z.object.
 */
export function serverEnv(ports: { port: number; metricsPort: number }) {
  return {
    HOST: z.string().default("0.0.0.0"),
    PORT: envPort(ports.port),
    METRICS_PORT: envPort(ports.metricsPort),
    LOG_LEVEL: envLogLevel(),
  };
}

/**
 * The variables every backend service reads, to spread first into its config's z.object: {@link serverEnv}'s,
 * GRPC_REFLECTION (default false), DATABASE_URL, DB_SCHEMA (default the service's name), DB_POOL_MAX (default
 * 10, from `minDbPool`, default 1, to 200), DB_PREPARED_STATEMENTS (default true), NATS_URL, NATS_STREAM_REPLICAS
 * (1-5, default 1), EVENTS_NAMESPACE (default ""), OUTBOX_POLL_INTERVAL_MS (default 1000), OUTBOX_LINGER_MS
 * (default `outboxLingerMs`, 50) and MAX_CONNECTION_AGE_MS (default 300000, 0: never). A bad value is reported by
 * parseConfig naming the variable.
 */
export function serviceEnv(
  service: { name: string; port: number; metricsPort: number },
  options: { minDbPool?: number; outboxLingerMs?: number } = {},
) {
  const { HOST, PORT, METRICS_PORT, LOG_LEVEL } = serverEnv(service);
  return {
    HOST,
    PORT,
    METRICS_PORT,
    /** Serve gRPC reflection on PORT (grpcurl, Postman); off by default: it describes the whole API to anyone who reaches the port. */
    GRPC_REFLECTION: envBool(false),
    LOG_LEVEL,
    DATABASE_URL: envUrl(DEFAULT_DATABASE_URL),
    DB_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, "expected a lower-case Postgres schema name")
      .default(service.name),
    DB_POOL_MAX: envInt(10, { min: options.minDbPool ?? 1, max: 200 }),
    /**
     * Prepare every statement with parameters once per connection (libs/db's createPool); false behind a
     * connection pooler that cannot keep prepared statements (PgBouncer in transaction mode before 1.21).
     */
    DB_PREPARED_STATEMENTS: envBool(true),
    NATS_URL: envUrl(DEFAULT_NATS_URL),
    NATS_STREAM_REPLICAS: envInt(1, { min: 1, max: 5 }),
    EVENTS_NAMESPACE: z
      .string()
      .regex(/^[a-z0-9]*$/, "expected lower-case letters and digits")
      .default(""),
    /**
     * How often the outbox relay looks for events nobody woke it for, in ms: those another replica wrote and left
     * (it died after its commit); a commit in this process wakes it (after OUTBOX_LINGER_MS).
     */
    OUTBOX_POLL_INTERVAL_MS: envInt(1000, { min: 10, max: 600_000 }),
    /**
     * How long the outbox relay, woken by a commit in this process, waits for more before it publishes, in ms (0: at
     * once): a few milliseconds of an event's delay buy one pass for the events of many commits instead of one
     * pass each.
     */
    OUTBOX_LINGER_MS: envInt(options.outboxLingerMs ?? 50, { min: 0, max: 10_000 }),
    /**
     * How long a caller's HTTP/2 connection is kept before the caller is asked to open a new one, in ms (+-10%; 0:
     * never), so balanced callers reach replicas started since.
     */
    MAX_CONNECTION_AGE_MS: envInt(DEFAULT_MAX_CONNECTION_AGE_MS, { min: 0, max: 86_400_000 }),
  };
}

/** REDIS_URL and REDIS_PREFIX (put in front of every Redis key the service writes; default `defaultPrefix`). */
export function redisEnv(defaultPrefix = "") {
  return {
    REDIS_URL: envUrl(DEFAULT_REDIS_URL),
    /** Put in front of every Redis key the service writes. */
    REDIS_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9:_-]*$/, "expected letters, digits, ':', '_' or '-'")
      .default(defaultPrefix),
  };
}
