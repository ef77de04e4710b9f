import { serviceRegistry } from "@fintech/platform";
import { describe, expect, test } from "vitest";
import { parseLedgerConfig } from "./config.js";

describe("config", () => {
  test("defaults: the registry's ports, schema ledger, hourly integrity check, any service may call", () => {
    expect(parseLedgerConfig({})).toMatchObject({
      PORT: serviceRegistry.ledger.port,
      METRICS_PORT: serviceRegistry.ledger.metricsPort,
      DB_SCHEMA: "ledger",
      LEDGER_BATCH_CONCURRENCY: 1,
      LEDGER_EXPIRY_INTERVAL_MS: 1000,
      LEDGER_INTEGRITY_INTERVAL_SECONDS: 3600,
      LEDGER_CALLERS: [],
      JWT_ISSUER: "fintech-identity",
    });
  });

  test("a bad value stops start-up naming the variable", () => {
    expect(() =>
      parseLedgerConfig({ PORT: "x", LEDGER_BATCH_CONCURRENCY: "0", LEDGER_CALLERS: "wallet, fraud" }),
    ).toThrow(/PORT: expected a port[\s\S]*LEDGER_BATCH_CONCURRENCY: expected an integer from 1 to 16/);
    expect(parseLedgerConfig({ LEDGER_CALLERS: "wallet, fraud" }).LEDGER_CALLERS).toEqual([
      "wallet",
      "fraud",
    ]);
  });
});
