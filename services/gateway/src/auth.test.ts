import { createTestTokens, TEST_AUDIENCE, TEST_ISSUER } from "@fintech/testing";
import { base64url, SignJWT } from "jose";
import { describe, expect } from "vitest";
import type { ErrorBody } from "./test/harness.js";
import { gatewayTest } from "./test/harness.js";

// Credentials are checked at the gateway before any backend call; every forgery is a 401 in the one error shape.
const test = gatewayTest({ RATE_LIMIT_RPS: "10000", RATE_LIMIT_BURST: "10000" });

const ROUTE = "/api/v1/fx/currencies";

async function expect401(res: Response): Promise<ErrorBody> {
  expect(res.status).toBe(401);
  const body = (await res.json()) as ErrorBody;
  expect(body.error).toBe("UNAUTHENTICATED");
  expect(body.request_id).toBe(res.headers.get("x-request-id"));
  return body;
}

const claims = () => ({ roles: ["admin"] });

describe("authentication at the gateway", () => {
  test("a valid access token passes", async ({ gw }) => {
    const res = await gw.call(ROUTE, { token: await gw.signer.token() });
    expect(res.status).toBe(200);
  });

  test("no credential on a protected route is 401, before the backend is asked", async ({ gw }) => {
    await expect401(await gw.call(ROUTE));
    // identity is down in this file: a 401 (not a 503) shows the backend was never called.
    await expect401(await gw.call("/api/v1/users/me"));
  });

  test("public routes need no credential", async ({ gw }) => {
    const res = await gw.call("/api/v1/auth/register", {
      method: "POST",
      json: { email: "a@example.com", password: "correct horse battery", full_name: "A" },
    });
    expect(res.status).toBe(503); // past auth and rate limits, to identity, which is down here
  });

  test("a malformed Authorization header or an API key that cannot be verified is 401", async ({ gw }) => {
    await expect401(await gw.call(ROUTE, { headers: { authorization: "Basic dXNlcjpwYXNz" } }));
    await expect401(await gw.call(ROUTE, { headers: { authorization: "Bearer" } }));
    await expect401(await gw.call(ROUTE, { headers: { "x-api-key": "fk_notarealkey" } }));
  });

  test('alg "none" in any spelling is refused', async ({ gw }) => {
    const now = Math.floor(Date.now() / 1000);
    const payload = base64url.encode(
      JSON.stringify({
        sub: "user-1",
        roles: ["admin"],
        iss: TEST_ISSUER,
        aud: TEST_AUDIENCE,
        iat: now,
        exp: now + 300,
      }),
    );
    for (const alg of ["none", "noNE", "NONE"]) {
      const header = base64url.encode(JSON.stringify({ alg, typ: "at+jwt", kid: gw.signer.kid }));
      await expect401(await gw.call(ROUTE, { token: `${header}.${payload}.` }));
    }
  });

  test("HS256 signed with the public key as the secret is refused", async ({ gw }) => {
    const secrets = [
      new TextEncoder().encode(JSON.stringify(gw.signer.publicJwk)),
      base64url.decode(gw.signer.publicJwk.x ?? ""),
    ];
    for (const secret of secrets) {
      const token = await new SignJWT(claims())
        .setProtectedHeader({ alg: "HS256", typ: "at+jwt", kid: gw.signer.kid })
        .setIssuer(TEST_ISSUER)
        .setAudience(TEST_AUDIENCE)
        .setSubject("user-1")
        .setIssuedAt()
        .setExpirationTime("5m")
        .sign(secret);
      await expect401(await gw.call(ROUTE, { token }));
    }
  });

  test("an expired token is refused", async ({ gw }) => {
    const token = await gw.signer.token(undefined, { ttlSeconds: 60, now: new Date(Date.now() - 3_600_000) });
    const body = await expect401(await gw.call(ROUTE, { token }));
    expect(body.message).toContain("expired");
  });

  test("a wrong issuer or audience is refused", async ({ gw }) => {
    for (const [iss, aud] of [
      ["https://evil.example", TEST_AUDIENCE],
      [TEST_ISSUER, "someone-else"],
    ] as const) {
      const token = await new SignJWT(claims())
        .setProtectedHeader({ alg: "EdDSA", typ: "at+jwt", kid: gw.signer.kid })
        .setIssuer(iss)
        .setAudience(aud)
        .setSubject("user-1")
        .setIssuedAt()
        .setExpirationTime("5m")
        .sign(gw.signer.privateKey);
      await expect401(await gw.call(ROUTE, { token }));
    }
  });

  test("a tampered payload is refused", async ({ gw }) => {
    const [header, payload, signature] = (await gw.signer.token()).split(".");
    const claimsIn = JSON.parse(new TextDecoder().decode(base64url.decode(payload ?? ""))) as Record<
      string,
      unknown
    >;
    const forged = base64url.encode(JSON.stringify({ ...claimsIn, roles: ["admin"], sub: "someone-else" }));
    await expect401(await gw.call(ROUTE, { token: `${header}.${forged}.${signature}` }));
  });

  test("a token signed by a key the JWKS does not have (unknown kid) is refused", async ({ gw }) => {
    const stranger = await createTestTokens({ kid: "not-in-the-jwks" });
    await expect401(await gw.call(ROUTE, { token: await stranger.token() }));
    // The right kid with the wrong key is no better.
    const impostor = await createTestTokens({ kid: gw.signer.kid });
    await expect401(await gw.call(ROUTE, { token: await impostor.token() }));
  });

  test("the logs hold no credential", async ({ gw }) => {
    const token = await gw.signer.token();
    await gw.call(ROUTE, { token });
    await gw.call(ROUTE, { headers: { "x-api-key": "fk_secretkeyvalue" } });
    const logs = gw.logs();
    expect(logs).toContain('"route":"GET /api/v1/fx/currencies"');
    expect(logs).not.toContain(token);
    expect(logs).not.toContain(token.split(".")[2]);
    expect(logs).not.toContain("fk_secretkeyvalue");
    expect(logs).not.toMatch(/authorization/i);
  });
});
