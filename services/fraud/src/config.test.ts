import { serviceRegistry } from "@fintech/platform";
import { describe, expect, it } from "vitest";
import { parseFraudConfig } from "./config.js";

describe("fraud configuration", () => {
  it("has working defaults", () => {
    const config = parseFraudConfig({});
    expect(config).toMatchObject({
      PORT: serviceRegistry.fraud.port,
      METRICS_PORT: serviceRegistry.fraud.metricsPort,
      DB_SCHEMA: "fraud",
      REDIS_PREFIX: "fraud:",
      FRAUD_BASE_CURRENCY: "MYR",
      FRAUD_SCORE_CALLERS: ["wallet"],
    });
  });

  it("names every bad variable in one message", () => {
    expect(() =>
      parseFraudConfig({ PORT: "http", FRAUD_BASE_CURRENCY: "XXX", FRAUD_TRANSACTION_RETENTION_HOURS: "1" }),
    ).toThrow(
      expect.objectContaining({
        name: "ConfigError",
        message: expect.stringMatching(
          /PORT:.*\n.*FRAUD_BASE_CURRENCY:.*\n.*FRAUD_TRANSACTION_RETENTION_HOURS:/s,
        ),
      }),
    );
  });
});
