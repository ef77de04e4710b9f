import { serviceRegistry, serviceUrl } from "@fintech/platform";
import { describe, expect, it } from "vitest";
import { parseWalletConfig } from "./config.js";

describe("config", () => {
  it("has the platform's defaults", () => {
    expect(parseWalletConfig({})).toMatchObject({
      PORT: serviceRegistry.wallet.port,
      METRICS_PORT: serviceRegistry.wallet.metricsPort,
      DB_SCHEMA: "wallet",
      LEDGER_URL: serviceUrl(serviceRegistry.ledger),
      FX_URL: serviceUrl(serviceRegistry.fx),
      FRAUD_URL: serviceUrl(serviceRegistry.fraud),
      IDENTITY_URL: serviceUrl(serviceRegistry.identity),
      SERVICE_CLIENT_ID: "wallet",
      FRAUD_UNAVAILABLE_POLICY: "review",
      BASE_CURRENCY: "MYR",
      WALLET_MAX_TRANSACTION: "50000.00",
      WALLET_DAILY_LIMIT: "100000.00",
      WALLET_IDEMPOTENCY_TTL_HOURS: 24,
      // Below the gateway's BACKEND_TIMEOUT_MS (10000): a repeat is answered IDEMPOTENCY_KEY_IN_USE, not 504.
      WALLET_IDEMPOTENCY_WAIT_MS: 8000,
    });
  });

  it("names every bad variable", () => {
    expect(() =>
      parseWalletConfig({
        FRAUD_UNAVAILABLE_POLICY: "approve",
        WALLET_DAILY_LIMIT: "100.001",
        WALLET_IDEMPOTENCY_TTL_HOURS: "1",
        BASE_CURRENCY: "XYZ",
      }),
    ).toThrow(/FRAUD_UNAVAILABLE_POLICY[\s\S]*BASE_CURRENCY|BASE_CURRENCY[\s\S]*FRAUD_UNAVAILABLE_POLICY/);
    expect(() => parseWalletConfig({ WALLET_DAILY_LIMIT: "100.001" })).toThrow(/WALLET_DAILY_LIMIT/);
    expect(() => parseWalletConfig({ WALLET_IDEMPOTENCY_TTL_HOURS: "12" })).toThrow(
      /WALLET_IDEMPOTENCY_TTL_HOURS/,
    );
  });
});
