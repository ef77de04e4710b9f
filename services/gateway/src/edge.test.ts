import { request } from "node:http";
import { describe, expect } from "vitest";
import type { ErrorBody } from "./test/harness.js";
import { gatewayTest } from "./test/harness.js";

// The HTTP edge itself: body size, CORS, Swagger UI, OpenAPI, metrics.
const test = gatewayTest({
  RATE_LIMIT_RPS: "10000",
  RATE_LIMIT_BURST: "10000",
  CORS_ORIGINS: "https://app.example.com",
});

/** Sends a body with node:http (so an early answer is read even while the upload is cut off). */
function post(url: string, path: string, headers: Record<string, string>, chunks: Buffer[]) {
  return new Promise<{ status: number; body: string; headers: Record<string, unknown> }>(
    (resolve, reject) => {
      const req = request(`${url}${path}`, { method: "POST", headers }, (res) => {
        let body = "";
        res.on("data", (c: Buffer) => {
          body += c.toString();
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      });
      req.on("error", reject);
      const write = (i: number): void => {
        const chunk = chunks[i];
        if (chunk === undefined) {
          req.end();
          return;
        }
        if (req.destroyed) return;
        req.write(chunk, () => setImmediate(() => write(i + 1)));
      };
      write(0);
    },
  );
}

describe("the HTTP edge", () => {
  test("a request continues the client's W3C trace, so its log lines can be followed by trace_id", async ({
    gw,
  }) => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const res = await gw.call("/api/v1/fx/currencies", {
      token: await gw.signer.token(),
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(res.status).toBe(200);
    const line = gw
      .logs()
      .split("\n")
      .find((l) => l.includes('"route":"GET /api/v1/fx/currencies"') && l.includes(traceId));
    expect(line).toBeDefined();
  });

  test("a declared body over 1 MiB is 413 before it is read", async ({ gw }) => {
    const token = await gw.signer.token();
    const res = await post(
      gw.url,
      "/api/v1/fx/quotes",
      {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        "content-length": String(2 * 1024 * 1024),
      },
      [Buffer.from('{"amount":"')],
    );
    expect(res.status).toBe(413);
    expect(res.headers.connection).toBe("close");
    expect(JSON.parse(res.body) as ErrorBody).toMatchObject({
      error: "PAYLOAD_TOO_LARGE",
      path: "/api/v1/fx/quotes",
    });
  });

  test("a chunked body growing past 1 MiB is cut off with 413", async ({ gw }) => {
    const token = await gw.signer.token();
    const chunk = Buffer.alloc(256 * 1024, 0x20);
    const res = await post(
      gw.url,
      "/api/v1/fx/quotes",
      {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
        "transfer-encoding": "chunked",
      },
      Array.from({ length: 6 }, () => chunk),
    );
    expect(res.status).toBe(413);
  });

  test("a body just under 1 MiB is read (and then judged on its content)", async ({ gw }) => {
    const token = await gw.signer.token();
    const padding = " ".repeat(1024 * 1024 - 100);
    const res = await gw.call("/api/v1/fx/quotes", {
      method: "POST",
      token,
      body: `{"from_currency":"USD","to_currency":"MYR","amount":"1.00"}${padding}`,
    });
    expect(res.status).toBe(201);
  });

  test("CORS: a preflight from an allowed origin is answered, others get no CORS headers", async ({ gw }) => {
    const ok = await gw.call("/api/v1/fx/quotes", {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example.com",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(ok.headers.get("access-control-allow-methods")).toBe("POST");
    expect(ok.headers.get("access-control-allow-headers")).toContain("authorization");

    const actual = await gw.call("/api/v1/fx/currencies", {
      token: await gw.signer.token(),
      headers: { origin: "https://app.example.com" },
    });
    expect(actual.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(actual.headers.get("access-control-expose-headers")).toContain("x-request-id");

    const evil = await gw.call("/api/v1/fx/currencies", {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "GET" },
    });
    expect(evil.headers.get("access-control-allow-origin")).toBeNull();
  });

  test("/docs serves Swagger UI from local files, pointed at /openapi.json", async ({ gw }) => {
    const page = await gw.call("/docs");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('id="swagger-ui"');
    expect(html).not.toMatch(/https?:\/\//);
    const bundle = await gw.call("/docs/swagger-ui-bundle.js");
    expect(bundle.status).toBe(200);
    expect((await bundle.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    expect(await (await gw.call("/docs/swagger-initializer.js")).text()).toContain('"/openapi.json"');
    expect((await gw.call("/docs/../package.json")).status).toBe(404);
  });

  test("/openapi.json is served without credentials", async ({ gw }) => {
    const res = await gw.call("/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.paths["/api/v1/fx/quotes"]).toBeDefined();
  });

  test("Prometheus metrics count requests by route template, on the separate metrics port", async ({
    gw,
  }) => {
    await gw.call("/api/v1/fx/rates/SGD/MYR", { token: await gw.signer.token() });
    const res = await fetch(`${gw.metricsUrl}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(
      /http_server_requests_total\{method="GET",route="GET \/api\/v1\/fx\/rates\/\{base\}\/\{quote\}",status="200"\} \d+/,
    );
    expect((await gw.call("/metrics")).status).toBe(404);
  });
});
