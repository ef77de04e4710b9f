import { IncomingMessage } from "node:http";
import { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { responseHeaders } from "./response-headers.js";
import { gatewayTest } from "./test/harness.js";

// What every answer says about caching, framing, sniffing and authentication, through the real gateway and
// identity: the headers a browser or a security scanner looks at.
const test = gatewayTest({ RATE_LIMIT_RPS: "10000", RATE_LIMIT_BURST: "10000" }, { identity: true });

const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

const headersOf = (res: Response) => Object.fromEntries(res.headers.entries());

describe("response headers", () => {
  test("token answers of login and refresh are never cached", async ({ gw }) => {
    const email = `cache-${Date.now()}@example.com`;
    const password = "plum-Orchard-77";
    const reg = await gw.call("/api/v1/auth/register", {
      method: "POST",
      json: { email, password, full_name: "No Store" },
    });
    expect(reg.status).toBe(201);
    const login = await gw.call("/api/v1/auth/login", { method: "POST", json: { email, password } });
    expect(login.status).toBe(200);
    expect(login.headers.get("cache-control")).toBe("no-store");
    const { refresh_token } = (await login.json()) as { refresh_token: string };
    const refreshed = await gw.call("/api/v1/auth/refresh", { method: "POST", json: { refresh_token } });
    expect(refreshed.status).toBe(200);
    expect(refreshed.headers.get("cache-control")).toBe("no-store");
  });

  test("every answer, success or error, carries the security headers and a strict CSP", async ({ gw }) => {
    const token = await gw.signer.token();
    for (const res of [
      await gw.call("/api/v1/fx/currencies", { token }),
      await gw.call("/api/v1/no/such/route", { token }),
      await gw.call("/api/v1/fx/currencies"),
      await gw.call("/health"),
      await gw.call("/openapi.json"),
    ]) {
      expect(headersOf(res)).toMatchObject(SECURITY_HEADERS);
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain("'self'");
      // Plain HTTP, no proxy that says otherwise: no HSTS.
      expect(res.headers.get("strict-transport-security")).toBeNull();
    }
  });

  test("/docs gets a CSP that lets Swagger UI load its own files and the OpenAPI document, nothing else", async ({
    gw,
  }) => {
    const page = await gw.call("/docs");
    expect(page.status).toBe(200);
    expect(headersOf(page)).toMatchObject(SECURITY_HEADERS);
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain("unsafe-eval");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    // The page runs no inline script, which that policy would block.
    expect(await page.text()).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    // Nothing it loads comes from elsewhere, the validator badge included.
    expect(await (await gw.call("/docs/swagger-initializer.js")).text()).toContain("validatorUrl: null");
    // Its static assets stay cacheable.
    expect((await gw.call("/docs/swagger-ui.css")).headers.get("cache-control")).toMatch(/max-age/);
  });

  test("a 401 challenges for a bearer token, and says invalid_token when one was sent", async ({ gw }) => {
    const none = await gw.call("/api/v1/fx/currencies");
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe('Bearer realm="api"');

    const forged = await gw.call("/api/v1/fx/currencies", { token: "not.a.token" });
    expect(forged.status).toBe(401);
    expect(forged.headers.get("www-authenticate")).toBe('Bearer realm="api", error="invalid_token"');

    const expired = await gw.call("/api/v1/fx/currencies", {
      token: await gw.signer.token(undefined, { ttlSeconds: 60, now: new Date(Date.now() - 3_600_000) }),
    });
    expect(expired.status).toBe(401);
    expect(expired.headers.get("www-authenticate")).toContain('error="invalid_token"');

    const badPassword = await gw.call("/api/v1/auth/login", {
      method: "POST",
      json: { email: "nobody@example.com", password: "wrong-Password-1" },
    });
    expect(badPassword.status).toBe(401);
    expect(badPassword.headers.get("www-authenticate")).toBe('Bearer realm="api"');
  });
});

describe("Strict-Transport-Security", () => {
  const request = (headers: Record<string, string>) => {
    const req = new IncomingMessage(new Socket());
    req.headers = headers;
    return req;
  };

  it("is sent when a trusted proxy says the client came over https, and only then", () => {
    const hsts = (headers: Record<string, string>, hops: number) =>
      responseHeaders(request(headers), "/api/v1/users/me", hops)["strict-transport-security"];
    expect(hsts({ "x-forwarded-proto": "https" }, 1)).toBe("max-age=31536000");
    // The last value is the trusted proxy's; a client's own claim before it does not count.
    expect(hsts({ "x-forwarded-proto": "https, http" }, 1)).toBeUndefined();
    // Without a trusted proxy the header is the client's word.
    expect(hsts({ "x-forwarded-proto": "https" }, 0)).toBeUndefined();
    expect(hsts({}, 1)).toBeUndefined();
  });
});
