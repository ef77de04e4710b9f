import { describe, expect } from "vitest";
import type { ErrorBody } from "./test/harness.js";
import { gatewayTest } from "./test/harness.js";

// FX's REST routes through the gateway, over real HTTP, against the real fx service.
const test = gatewayTest({ RATE_LIMIT_RPS: "10000", RATE_LIMIT_BURST: "10000" });

describe("routes derived from fx's annotations", () => {
  test("GET with no parameters lists the currencies in snake_case", async ({ gw }) => {
    const token = await gw.signer.token();
    const res = await gw.call("/api/v1/fx/currencies", { token });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const body = (await res.json()) as { data: Array<Record<string, unknown>> };
    expect(body.data[0]).toEqual({ code: "MYR", name: expect.any(String), minor_units: 2 });
  });

  test("binds path variables and renders rates as decimal strings", async ({ gw }) => {
    const token = await gw.signer.token();
    const res = await gw.call("/api/v1/fx/rates/SGD/MYR", { token });
    expect(res.status).toBe(200);
    // response_body: "rate" puts the rate's fields at the top level.
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ base: "SGD", quote: "MYR", rate: "3.5", derivation: "direct" });
    expect(body.updated_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  });

  test("binds query parameters to the remaining fields", async ({ gw }) => {
    const token = await gw.signer.token();
    const res = await gw.call("/api/v1/fx/rates?base=USD", { token });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { base: string; data: Array<{ quote: string; rate: string }> };
    expect(body.base).toBe("USD");
    expect(body.data.map((r) => `${r.quote}=${r.rate}`)).toEqual(["MYR=4.7", "SGD=1.342857142857"]);
  });

  test("binds integer query parameters and shows implicit fields such as has_more: false", async ({ gw }) => {
    const token = await gw.signer.token();
    const res = await gw.call("/api/v1/fx/rates/SGD/MYR/history?limit=1", { token });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: unknown[]; has_more: boolean; next_cursor: string };
    expect(body).toMatchObject({ has_more: false, next_cursor: "" });
    expect(body.data).toHaveLength(1);
  });

  test("refuses an unknown or badly typed query parameter, naming it", async ({ gw }) => {
    const token = await gw.signer.token();
    const unknown = await gw.call("/api/v1/fx/rates?bsae=USD", { token });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as ErrorBody).details).toEqual({ field: "bsae" });
    const typed = await gw.call("/api/v1/fx/rates/SGD/MYR/history?limit=ten", { token });
    expect(typed.status).toBe(400);
    expect(((await typed.json()) as ErrorBody).details).toEqual({ field: "limit" });
  });

  test("POST with body '*' creates a quote: 201, money as strings, a JSON number accepted", async ({
    gw,
  }) => {
    const token = await gw.signer.token();
    const res = await gw.call("/api/v1/fx/quotes", {
      method: "POST",
      token,
      body: '{"from_currency":"USD","to_currency":"MYR","amount":10.50}',
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(201);
    // docs/api.md's shape: {quote_id, rate, from_amount, to_amount, expires_at} at the top level.
    const quote = (await res.json()) as Record<string, unknown>;
    expect(quote).toMatchObject({
      from_currency: "USD",
      to_currency: "MYR",
      from_amount: "10.50",
      to_amount: "49.35",
    });
    expect(quote.quote_id).toEqual(expect.any(String));

    const got = await gw.call(`/api/v1/fx/quotes/${quote.quote_id}`, { token });
    expect(got.status).toBe(200);
    expect(((await got.json()) as { quote_id: string }).quote_id).toBe(quote.quote_id);
  });

  test("keeps every digit of a JSON number sent as money", async ({ gw }) => {
    const token = await gw.signer.token();
    // 0.1 + 0.2 style floats never happen: the number's text is used as it was sent.
    const res = await gw.call("/api/v1/fx/quotes", {
      method: "POST",
      token,
      body: '{"from_currency":"MYR","to_currency":"USD","amount":12345678901234.57}',
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { from_amount: string }).from_amount).toBe("12345678901234.57");
  });

  test("refuses unknown body fields and fields the path binds (no mass assignment)", async ({ gw }) => {
    const token = await gw.signer.token();
    const unknown = await gw.call("/api/v1/fx/quotes", {
      method: "POST",
      token,
      json: { from_currency: "USD", to_currency: "MYR", amount: "1.00", status: "redeemed" },
    });
    expect(unknown.status).toBe(400);
    const body = (await unknown.json()) as ErrorBody;
    expect(body).toMatchObject({ error: "VALIDATION_ERROR", details: { field: "status" } });
    expect(body.message).toContain("status");

    const camel = await gw.call("/api/v1/fx/quotes", {
      method: "POST",
      token,
      json: { fromCurrency: "USD" },
    });
    expect(camel.status).toBe(400);

    const pathField = await gw.call("/api/v1/fx/rates/SGD/MYR", {
      method: "PUT",
      token,
      json: { rate: "3.6", base: "USD" },
    });
    expect(pathField.status).toBe(400);
    expect(((await pathField.json()) as ErrorBody).details).toEqual({ field: "base" });
  });

  test("refuses a badly typed body field, naming it", async ({ gw }) => {
    const token = await gw.signer.token();
    const res = await gw.call("/api/v1/fx/quotes", {
      method: "POST",
      token,
      json: { from_currency: 12, to_currency: "MYR", amount: "1.00" },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).details).toEqual({ field: "from_currency" });
    const notDecimal = await gw.call("/api/v1/fx/quotes", {
      method: "POST",
      token,
      body: '{"from_currency":"USD","to_currency":"MYR","amount":1e3}',
    });
    expect(notDecimal.status).toBe(400);
    expect(((await notDecimal.json()) as ErrorBody).details).toEqual({ field: "amount" });
  });

  test("malformed JSON is a 400 VALIDATION_ERROR", async ({ gw }) => {
    const token = await gw.signer.token();
    for (const body of ['{"from_currency": "USD",', "[1,2]", '"text"']) {
      const res = await gw.call("/api/v1/fx/quotes", {
        method: "POST",
        token,
        body,
        headers: { "content-type": "application/json" },
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as ErrorBody).error).toBe("VALIDATION_ERROR");
    }
  });

  test("a non-JSON body is refused with 415", async ({ gw }) => {
    const token = await gw.signer.token();
    const res = await gw.call("/api/v1/fx/quotes", {
      method: "POST",
      token,
      body: "from_currency=USD",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(res.status).toBe(415);
  });
});

describe("errors", () => {
  test("a backend refusal keeps its reason and details in docs/api.md's body, with the table's status", async ({
    gw,
  }) => {
    const token = await gw.signer.token();
    const res = await gw.call("/api/v1/fx/rates/EUR/MYR", { token, headers: { "x-request-id": "req-123" } });
    expect(res.status).toBe(422);
    expect(res.headers.get("x-request-id")).toBe("req-123");
    const body = (await res.json()) as ErrorBody;
    expect(body).toEqual({
      error: "CURRENCY_NOT_SUPPORTED",
      message: expect.any(String),
      details: { currency: "EUR", field: "base" },
      request_id: "req-123",
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
      path: "/api/v1/fx/rates/EUR/MYR",
    });
  });

  test("a backend's InvalidArgument is 400 and its NotFound is 404", async ({ gw }) => {
    const token = await gw.signer.token();
    const bad = await gw.call("/api/v1/fx/rates/XYZ/MYR", { token });
    expect(bad.status).toBe(400);
    expect((await bad.json()) as ErrorBody).toMatchObject({
      error: "VALIDATION_ERROR",
      details: { field: "base" },
    });
    const missing = await gw.call("/api/v1/fx/quotes/00000000-0000-4000-8000-000000000000", { token });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as ErrorBody).error).toBe("QUOTE_NOT_FOUND");
  });

  test("an unknown route is 404 and a wrong method 405 with Allow, both in the error shape", async ({
    gw,
  }) => {
    const token = await gw.signer.token();
    const missing = await gw.call("/api/v1/nothing-here", { token });
    expect(missing.status).toBe(404);
    expect((await missing.json()) as ErrorBody).toMatchObject({
      error: "NOT_FOUND",
      path: "/api/v1/nothing-here",
    });
    const wrong = await gw.call("/api/v1/fx/currencies", { method: "DELETE", token });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("GET");
    expect(((await wrong.json()) as ErrorBody).error).toBe("METHOD_NOT_ALLOWED");
  });

  test("a backend that is down is 503 UNAVAILABLE without internals", async ({ gw }) => {
    // identity is not running in this file; its routes are still derived.
    const res = await gw.call("/api/v1/auth/login", {
      method: "POST",
      json: { email: "a@example.com", password: "x" },
    });
    expect(res.status).toBe(503);
    const body = (await res.json()) as ErrorBody;
    expect(body.error).toBe("UNAVAILABLE");
    expect(body.message).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/);
  });

  test("every response has an X-Request-Id: the client's when sane, a fresh one otherwise", async ({
    gw,
  }) => {
    const own = await gw.call("/health", { headers: { "x-request-id": "abc-1" } });
    expect(own.headers.get("x-request-id")).toBe("abc-1");
    const insane = await gw.call("/api/v1/nothing", { headers: { "x-request-id": "has spaces\tand tabs" } });
    expect(insane.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(((await insane.json()) as ErrorBody).request_id).toBe(insane.headers.get("x-request-id"));
  });

  test("a bad Idempotency-Key is a 400 naming the header", async ({ gw }) => {
    const token = await gw.signer.token();
    const res = await gw.call("/api/v1/fx/quotes", {
      method: "POST",
      token,
      headers: { "idempotency-key": "x".repeat(256) },
      json: { from_currency: "USD", to_currency: "MYR", amount: "1.00" },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).details).toEqual({ field: "Idempotency-Key" });
  });
});

describe("operations", () => {
  test("/health is 200 ok without credentials", async ({ gw }) => {
    const res = await gw.call("/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  test("/ready reports each dependency and is 503 while a backend is down", async ({ gw }) => {
    const res = await gw.call("/ready");
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      status: "not_ready",
      checks: { redis: "ok", fx: "ok", identity: "unavailable" },
    });
  });
});
