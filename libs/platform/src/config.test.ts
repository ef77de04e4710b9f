import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { ConfigError } from "./config.js";
import { envBool, envCsv, envInt, envLogLevel, envPort, envUrl, parseConfig } from "./config.js";

const schema = z.object({
  PORT: envPort(50051),
  DATABASE_URL: envUrl("postgres://postgres@127.0.0.1:5432/postgres"),
  POOL_SIZE: envInt(10, { min: 1, max: 100 }),
  TRACING: envBool(false),
  LOG_LEVEL: envLogLevel(),
  ALLOWED_ORIGINS: envCsv(["http://localhost:3000"]),
  JWT_SECRET: z.string().min(32, "expected at least 32 characters"),
  REDIS_URL: envUrl(),
});

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    parseConfig(schema, env);
  } catch (err) {
    if (err instanceof Error && err.name === "ConfigError") {
      return err as ConfigError;
    }
    throw err;
  }
  throw new Error("expected parseConfig to fail");
}

describe("parseConfig", () => {
  it("applies defaults and coerces values, treating empty strings as unset", () => {
    const config = parseConfig(schema, {
      JWT_SECRET: "s".repeat(32),
      REDIS_URL: "redis://127.0.0.1:6379",
      PORT: "",
      TRACING: "Yes",
      POOL_SIZE: "25",
      ALLOWED_ORIGINS: " https://a.example , ,https://b.example",
      LOG_LEVEL: "DEBUG",
    });
    expect(config).toEqual({
      PORT: 50051,
      DATABASE_URL: "postgres://postgres@127.0.0.1:5432/postgres",
      POOL_SIZE: 25,
      TRACING: true,
      LOG_LEVEL: "debug",
      ALLOWED_ORIGINS: ["https://a.example", "https://b.example"],
      JWT_SECRET: "s".repeat(32),
      REDIS_URL: "redis://127.0.0.1:6379",
    });
  });

  it("lists every bad variable on its own line and never echoes a secret", () => {
    const err = configError({
      PORT: "abc",
      POOL_SIZE: "500",
      TRACING: "maybe",
      LOG_LEVEL: "loud",
      DATABASE_URL: "not a url",
      JWT_SECRET: "short-but-secret",
    });
    expect(err.name).toBe("ConfigError");
    expect(err.message.split("\n")).toEqual([
      "invalid configuration:",
      '  PORT: expected a port number 1-65535, got "abc"',
      '  DATABASE_URL: expected an absolute URL, got "not a url"',
      '  POOL_SIZE: expected an integer from 1 to 100, got "500"',
      '  TRACING: expected a boolean (true/false, 1/0, yes/no, on/off), got "maybe"',
      '  LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"',
      "  JWT_SECRET: expected at least 32 characters, got <redacted>",
      "  REDIS_URL: expected an absolute URL, not set",
    ]);
    expect(err.message).not.toContain("short-but-secret");
    expect(err.issues.map((i) => i.variable)).toEqual([
      "PORT",
      "DATABASE_URL",
      "POOL_SIZE",
      "TRACING",
      "LOG_LEVEL",
      "JWT_SECRET",
      "REDIS_URL",
    ]);
  });

  it("redacts variables named like keys, tokens and passwords", () => {
    const secrets = z.object({ API_KEY: envInt(), DB_PASSWORD: envPort(), GITHUB_TOKEN: envBool() });
    let message = "";
    try {
      parseConfig(secrets, { API_KEY: "k-123", DB_PASSWORD: "p-456", GITHUB_TOKEN: "t-789" });
    } catch (err) {
      message = err instanceof Error ? err.message : "";
    }
    expect(message.split("\n").slice(1)).toEqual([
      "  API_KEY: expected an integer, got <redacted>",
      "  DB_PASSWORD: expected a port number 1-65535, got <redacted>",
      "  GITHUB_TOKEN: expected a boolean (true/false, 1/0, yes/no, on/off), got <redacted>",
    ]);
  });

  it("never echoes the user-info of a URL it refuses, whatever the variable is called", () => {
    let message = "";
    try {
      parseConfig(schema, {
        JWT_SECRET: "s".repeat(32),
        REDIS_URL: "redis://:hunter2@cache:6379",
        DATABASE_URL: "postgres://app:hunter2-secret@db:port/fintech",
      });
    } catch (err) {
      message = err instanceof Error ? err.message : "";
    }
    expect(message.split("\n").slice(1)).toEqual([
      '  DATABASE_URL: expected an absolute URL, got "postgres://<redacted>@db:port/fintech"',
    ]);
    expect(message).not.toContain("hunter2");
  });

  it("rejects ports and integers that only look like numbers", () => {
    const s = z.object({ PORT: envPort(), N: envInt(0) });
    for (const bad of ["0", "65536", "80.5", "1e3", "0x50", " "]) {
      expect(() => parseConfig(s, { PORT: bad })).toThrow(/PORT: expected a port number/);
    }
    expect(parseConfig(s, { PORT: "65535", N: "-7" })).toEqual({ PORT: 65535, N: -7 });
  });
});
