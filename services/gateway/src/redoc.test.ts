import { describe, expect } from "vitest";
import { gatewayTest } from "./test/harness.js";

// ReDoc beside Swagger UI: a second reading of the same OpenAPI document, served by the gateway from the
// redoc package (no CDN).
const test = gatewayTest();

describe("/redoc", () => {
  test("serves ReDoc from local files, pointed at /openapi.json, under the docs' CSP", async ({ gw }) => {
    for (const path of ["/redoc", "/redoc/"]) {
      const page = await gw.call(path);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toMatch(/^text\/html/);
      const html = await page.text();
      expect(html).toContain('<redoc spec-url="/openapi.json">');
      // Nothing from elsewhere, and no inline script (the policy would block it).
      expect(html).not.toMatch(/https?:\/\//);
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      const csp = page.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("worker-src 'self' blob:");
      expect(csp).not.toContain("unsafe-eval");
    }
    const bundle = await gw.call("/redoc/redoc.standalone.js");
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(bundle.headers.get("cache-control")).toMatch(/max-age/);
    expect((await bundle.arrayBuffer()).byteLength).toBeGreaterThan(500_000);
    // Only the bundle: nothing else of the package, or of the disk, is reachable.
    expect((await gw.call("/redoc/package.json")).status).toBe(404);
    expect((await gw.call("/redoc/../package.json")).status).toBe(404);
    // The JSON API keeps its strict policy.
    const api = await gw.call("/openapi.json");
    expect(api.headers.get("content-security-policy")).toContain("default-src 'none'");
  });
});
