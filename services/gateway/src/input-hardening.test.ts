import { connect } from "node:net";
import { describe, expect } from "vitest";
import type { ErrorBody, GatewayHarness } from "./test/harness.js";
import { gatewayTest } from "./test/harness.js";

// Inputs that once reached Postgres and came back as 500 INTERNAL: control characters in any text and
// amounts beyond 64-bit minor units. End to end: HTTP -> gateway -> real identity and fx.
const test = gatewayTest({ RATE_LIMIT_RPS: "10000", RATE_LIMIT_BURST: "10000" }, { identity: true });

async function refusal(res: Response): Promise<ErrorBody> {
  const body = (await res.json()) as ErrorBody;
  expect({ status: res.status, error: body.error }).toEqual({ status: 400, error: "VALIDATION_ERROR" });
  expect(res.headers.get("x-request-id")).toBe(body.request_id);
  return body;
}

let users = 0;
async function userToken(gw: GatewayHarness): Promise<string> {
  const email = `input-${++users}-${Date.now()}@example.com`;
  const password = "plum-Orchard-77";
  const reg = await gw.call("/api/v1/auth/register", {
    method: "POST",
    json: { email, password, full_name: "Input Tester" },
  });
  expect(reg.status).toBe(201);
  const login = await gw.call("/api/v1/auth/login", { method: "POST", json: { email, password } });
  return ((await login.json()) as { access_token: string }).access_token;
}

describe("control characters", () => {
  test("a NUL in a JSON field, a query parameter or a path segment is a 400 naming the field", async ({
    gw,
  }) => {
    const reg = await gw.call("/api/v1/auth/register", {
      method: "POST",
      json: { email: "nul@example.com", password: "plum-Orchard-77", full_name: "Ana\u0000Lee" },
    });
    expect((await refusal(reg)).details.field).toBe("full_name");
    const login = await gw.call("/api/v1/auth/login", {
      method: "POST",
      json: { email: "a\u0000@example.com", password: "x" },
    });
    expect((await refusal(login)).details.field).toBe("email");

    const token = await userToken(gw);
    const query = await gw.call("/api/v1/fx/rates?base=MY%00R", { token });
    expect((await refusal(query)).details.field).toBe("base");
    const path = await gw.call("/api/v1/fx/rates/SGD/MY%00R", { token });
    expect((await refusal(path)).details.field).toBe("quote");
    const ansi = await gw.call("/api/v1/fx/quotes", {
      method: "POST",
      token,
      json: { from_currency: "MYR", to_currency: "SGD\u001b[2J", amount: "10.00" },
    });
    expect((await refusal(ansi)).details.field).toBe("to_currency");

    // Nothing reached a database as a NUL: no unhandled error in identity's log.
    expect(gw.identityLogs()).not.toContain("unhandled error");
  });

  test("an Idempotency-Key with a control character is a 400 naming the header", async ({ gw }) => {
    const res = await gw.call("/api/v1/fx/quotes", {
      method: "POST",
      token: await userToken(gw),
      headers: { "idempotency-key": "key\twith-tab" },
      json: { from_currency: "MYR", to_currency: "SGD", amount: "10.00" },
    });
    expect((await refusal(res)).details.field).toBe("Idempotency-Key");
  });
});

describe("what Node's HTTP parser refuses", () => {
  test("a URL over the header limit is 431 with the error body and X-Request-Id", async ({ gw }) => {
    // A raw socket: fetch reports the early close as a failure before it shows the answer.
    const answer = await rawExchange(
      gw.url,
      `GET /api/v1/fx/rates?base=${"x".repeat(20_000)} HTTP/1.1\r\nhost: x\r\n\r\n`,
    );
    const [head = "", text = ""] = answer.split("\r\n\r\n");
    expect(head).toMatch(/^HTTP\/1\.1 431 /);
    const body = JSON.parse(text) as ErrorBody;
    expect(body.error).toBe("HEADERS_TOO_LARGE");
    expect(head.toLowerCase()).toContain(`x-request-id: ${body.request_id}`);
    expect(Object.keys(body).sort()).toEqual([
      "details",
      "error",
      "message",
      "path",
      "request_id",
      "timestamp",
    ]);
  });
});

/** Writes `request` on a new connection and resolves with everything read until the server closes it. */
function rawExchange(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname, () => socket.write(request));
    let answer = "";
    socket.on("data", (chunk: Buffer) => {
      answer += chunk.toString();
    });
    socket.on("error", () => undefined);
    socket.on("close", () => resolve(answer));
  });
}

describe("amount bounds", () => {
  test("an fx quote for an amount beyond 64-bit minor units is a 400 on amount", async ({ gw }) => {
    const token = await userToken(gw);
    for (const amount of ["9223372036854775808", "99999999999999999999999999999.99"]) {
      const res = await gw.call("/api/v1/fx/quotes", {
        method: "POST",
        token,
        json: { from_currency: "MYR", to_currency: "SGD", amount },
      });
      expect((await refusal(res)).details.field).toBe("amount");
    }
    // The same as a JSON number, digit for digit.
    const number = await gw.call("/api/v1/fx/quotes", {
      method: "POST",
      token,
      body: '{"from_currency":"MYR","to_currency":"SGD","amount":99999999999999999999999999999.99}',
    });
    expect((await refusal(number)).details.field).toBe("amount");
    expect(gw.logs()).not.toContain("request failed");
  });
});
