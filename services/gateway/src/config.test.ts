import { platformServices, serviceRegistry, serviceUrl } from "@fintech/platform";
import { describe, expect, it } from "vitest";
import { parseGatewayConfig } from "./config.js";

describe("gateway configuration", () => {
  it("has working defaults, with one URL per backend", () => {
    const c = parseGatewayConfig({});
    expect(c).toMatchObject({
      PORT: serviceRegistry.gateway.port,
      RATE_LIMIT_RPS: 100,
      RATE_LIMIT_BURST: 200,
      CORS_ORIGINS: [],
      FX_URL: serviceUrl(serviceRegistry.fx),
      IDENTITY_URL: serviceUrl(serviceRegistry.identity),
      BACKEND_PROTOCOL: "connect",
    });
  });

  it("names every bad variable in one message", () => {
    let message = "";
    try {
      parseGatewayConfig({
        PORT: "http",
        RATE_LIMIT_RPS: "0",
        FX_URL: "nope",
        BACKEND_PROTOCOL: "carrier-pigeon",
      });
    } catch (err) {
      message = err instanceof Error ? err.message : "";
    }
    for (const variable of ["PORT", "RATE_LIMIT_RPS", "FX_URL", "BACKEND_PROTOCOL"]) {
      expect(message).toContain(`  ${variable}: `);
    }
  });

  it("routes to every backend unless BACKENDS names some, and refuses unknown names", () => {
    // Every service the registry marks REST (in the order the gateway routes them).
    const rest = platformServices.filter((s) => s.rest).map((s) => s.name);
    expect([...parseGatewayConfig({}).BACKENDS].sort()).toEqual(rest.sort());
    expect(parseGatewayConfig({ BACKENDS: "identity, fx" }).BACKENDS).toEqual(["identity", "fx"]);
    expect(() => parseGatewayConfig({ BACKENDS: "identity,ledgr" })).toThrow(/BACKENDS/);
  });

  it("reads CORS origins as a list", () => {
    expect(parseGatewayConfig({ CORS_ORIGINS: "https://a.example, https://b.example" }).CORS_ORIGINS).toEqual(
      ["https://a.example", "https://b.example"],
    );
  });

  it("drops slow clients within seconds by default, and refuses a header timeout above the request timeout", () => {
    expect(parseGatewayConfig({})).toMatchObject({
      HEADERS_TIMEOUT_MS: 5_000,
      REQUEST_TIMEOUT_MS: 30_000,
      KEEP_ALIVE_TIMEOUT_MS: 5_000,
    });
    expect(() => parseGatewayConfig({ HEADERS_TIMEOUT_MS: "40000" })).toThrow(
      /HEADERS_TIMEOUT_MS: expected at most REQUEST_TIMEOUT_MS/,
    );
  });
});
