import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseConfig } from "./config.js";
import { platformServices, serviceRegistry, serviceUrl, serviceUrlsEnv } from "./service-registry.js";

describe("the service registry", () => {
  it("gives every service its own name, port and metrics port", () => {
    const names = platformServices.map((s) => s.name);
    const ports = platformServices.flatMap((s) => [s.port, s.metricsPort]);
    expect(new Set(names).size).toBe(names.length);
    expect(new Set(ports).size).toBe(ports.length);
    for (const [key, s] of Object.entries(serviceRegistry)) expect(s.name).toBe(key);
  });

  it("names every backend's URL variable <NAME>_URL, as the Helm templates build it, and the edge none", () => {
    for (const s of platformServices) {
      expect({ name: s.name, urlEnv: s.urlEnv }).toEqual({
        name: s.name,
        urlEnv: s.kind === "grpc" ? `${s.name.toUpperCase()}_URL` : undefined,
      });
    }
    expect(platformServices.filter((s) => s.kind === "http").map((s) => s.name)).toEqual(["gateway"]);
  });
});

describe("serviceUrlsEnv", () => {
  const schema = z.object(serviceUrlsEnv("ledger", "fx"));

  it("defaults each backend's URL variable to where it listens on this machine", () => {
    expect(parseConfig(schema, {})).toEqual({
      LEDGER_URL: serviceUrl(serviceRegistry.ledger),
      FX_URL: `http://127.0.0.1:${serviceRegistry.fx.port}`,
      UPSTREAM_RESOLVE_MS: 30_000,
    });
    expect(parseConfig(schema, { FX_URL: "http://fx:50055" }).FX_URL).toBe("http://fx:50055");
  });

  it("takes a list of URLs, one per replica, as it is given", () => {
    const list = "http://127.0.0.2:50055, http://127.0.0.3:50055";
    expect(parseConfig(schema, { FX_URL: list }).FX_URL).toBe(list);
  });

  it("refuses a value that is not a URL or a list of them, naming the variable", () => {
    expect(() => parseConfig(schema, { LEDGER_URL: "//ledger" })).toThrow(
      /LEDGER_URL: expected an absolute URL, or several separated by commas, got "\/\/ledger"/,
    );
    expect(() => parseConfig(schema, { LEDGER_URL: "http://a:1,ledger:2" })).toThrow(/LEDGER_URL/);
    expect(() => parseConfig(schema, { LEDGER_URL: "nats://ledger:4222" })).toThrow(/LEDGER_URL/);
    expect(() => parseConfig(schema, { UPSTREAM_RESOLVE_MS: "10" })).toThrow(/UPSTREAM_RESOLVE_MS/);
  });
});
