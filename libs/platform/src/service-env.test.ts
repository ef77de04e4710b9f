import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseConfig } from "./config.js";
import { redisEnv, serverEnv, serviceEnv } from "./service-env.js";
import { serviceRegistry } from "./service-registry.js";

const demo = z.object({
  ...serviceEnv({ name: "demo", port: 50099, metricsPort: 9199 }, { minDbPool: 2 }),
  ...redisEnv("demo:"),
});

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  throw new Error("expected a ConfigError");
}

describe("serviceEnv", () => {
  it("defaults to the service's ports and schema and the local servers", () => {
    expect(parseConfig(demo, {})).toEqual({
      HOST: "0.0.0.0",
      PORT: 50099,
      METRICS_PORT: 9199,
      GRPC_REFLECTION: false,
      LOG_LEVEL: "info",
      DATABASE_URL: "postgres://postgres@127.0.0.1:5432/postgres",
      DB_SCHEMA: "demo",
      DB_POOL_MAX: 10,
      DB_PREPARED_STATEMENTS: true,
      NATS_URL: "nats://127.0.0.1:4222",
      NATS_STREAM_REPLICAS: 1,
      EVENTS_NAMESPACE: "",
      OUTBOX_POLL_INTERVAL_MS: 1000,
      OUTBOX_LINGER_MS: 50,
      MAX_CONNECTION_AGE_MS: 300_000,
      REDIS_URL: "redis://127.0.0.1:6379",
      REDIS_PREFIX: "demo:",
    });
  });

  it("names each bad variable, in the schema's order, with the service's own pool floor", () => {
    const message = messageOf(() =>
      parseConfig(demo, {
        PORT: "70000",
        GRPC_REFLECTION: "maybe",
        DB_SCHEMA: "Demo-1",
        DB_POOL_MAX: "1",
        NATS_STREAM_REPLICAS: "6",
        EVENTS_NAMESPACE: "a-b",
        REDIS_PREFIX: "a b",
      }),
    );
    expect(message.split("\n").slice(1)).toEqual([
      '  PORT: expected a port number 1-65535, got "70000"',
      '  GRPC_REFLECTION: expected a boolean (true/false, 1/0, yes/no, on/off), got "maybe"',
      '  DB_SCHEMA: expected a lower-case Postgres schema name, got "Demo-1"',
      '  DB_POOL_MAX: expected an integer from 2 to 200, got "1"',
      '  NATS_STREAM_REPLICAS: expected an integer from 1 to 5, got "6"',
      '  EVENTS_NAMESPACE: expected lower-case letters and digits, got "a-b"',
      "  REDIS_PREFIX: expected letters, digits, ':', '_' or '-', got \"a b\"",
    ]);
  });
});

describe("serverEnv", () => {
  it("is the part every server reads, the gateway included", () => {
    const gateway = z.object(serverEnv(serviceRegistry.gateway));
    expect(parseConfig(gateway, { HOST: "127.0.0.1", LOG_LEVEL: "WARN" })).toEqual({
      HOST: "127.0.0.1",
      PORT: serviceRegistry.gateway.port,
      METRICS_PORT: serviceRegistry.gateway.metricsPort,
      LOG_LEVEL: "warn",
    });
  });
});
