import { serviceRegistry } from "@fintech/platform";
import { describe, expect, it } from "vitest";
import { parseIdentityConfig } from "./config.js";

describe("identity configuration", () => {
  it("has working defaults", () => {
    const c = parseIdentityConfig({});
    expect(c).toMatchObject({
      PORT: serviceRegistry.identity.port,
      METRICS_PORT: serviceRegistry.identity.metricsPort,
      JWT_ISSUER: "fintech-identity",
      JWT_AUDIENCE: "fintech",
      ACCESS_TOKEN_TTL_SECONDS: 900,
      REFRESH_TOKEN_TTL_DAYS: 30,
      DB_SCHEMA: "identity",
      SERVICE_CREDENTIALS: [],
      // Its events revoke access elsewhere: the relay publishes them at once, not after the usual linger.
      OUTBOX_LINGER_MS: 0,
    });
    expect(c.ADMIN_EMAIL).toBeUndefined();
  });

  it("keeps only a digest of each service secret", () => {
    const c = parseIdentityConfig({
      SERVICE_CREDENTIALS: "gateway:0123456789abcdef-gw, wallet:0123456789abcdef-wl",
    });
    expect(c.SERVICE_CREDENTIALS.map((s) => s.clientId)).toEqual(["gateway", "wallet"]);
    expect(JSON.stringify(c)).not.toContain("0123456789abcdef");
  });

  it("names bad variables without echoing secrets", () => {
    let message = "";
    try {
      parseIdentityConfig({
        SERVICE_CREDENTIALS: "gateway:short",
        ADMIN_EMAIL: "a@example.com",
        ADMIN_PASSWORD: "password1234",
        PORT: "x",
      });
    } catch (err) {
      message = err instanceof Error ? err.message : "";
    }
    expect(message).toMatch(/PORT:/);
    expect(message).toMatch(/SERVICE_CREDENTIALS:/);
    expect(message).not.toContain("short");
    expect(message).not.toContain("password1234");
  });

  it("needs ADMIN_EMAIL and ADMIN_PASSWORD together, and a strong admin password", () => {
    expect(() => parseIdentityConfig({ ADMIN_EMAIL: "a@example.com" })).toThrow(/ADMIN_PASSWORD/);
    expect(() =>
      parseIdentityConfig({ ADMIN_EMAIL: "a@example.com", ADMIN_PASSWORD: "Password1234!" }),
    ).toThrow(/ADMIN_PASSWORD: is a well-known password/);
  });
});
