import { describe, expect } from "vitest";
import type { ErrorBody, GatewayHarness } from "./test/harness.js";
import { ADMIN_EMAIL, ADMIN_PASSWORD, gatewayTest } from "./test/harness.js";

// The newcomer's path and identity's refusals, end to end: HTTP -> gateway -> real identity (and fx).
const test = gatewayTest(
  { RATE_LIMIT_RPS: "10000", RATE_LIMIT_BURST: "10000", API_KEY_CACHE_TTL_MS: "0" },
  { identity: true },
);

const PASSWORD = "plum-Orchard-77";
let n = 0;

interface Tokens {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
}

async function signUp(gw: GatewayHarness, name = "user") {
  const email = `${name}-${++n}-${Date.now()}@example.com`;
  const reg = await gw.call("/api/v1/auth/register", {
    method: "POST",
    json: { email, password: PASSWORD, full_name: `Test ${name}` },
  });
  expect(reg.status).toBe(201);
  const user = (await reg.json()) as { id: string; email: string };
  const login = await gw.call("/api/v1/auth/login", { method: "POST", json: { email, password: PASSWORD } });
  expect(login.status).toBe(200);
  return { user, email, tokens: (await login.json()) as Tokens };
}

async function login(gw: GatewayHarness, email: string, password: string): Promise<Tokens> {
  const res = await gw.call("/api/v1/auth/login", { method: "POST", json: { email, password } });
  expect(res.status).toBe(200);
  return (await res.json()) as Tokens;
}

describe("identity through the gateway", () => {
  test("a newcomer registers, logs in, reads /users/me and fx rates with the token, refreshes and logs out", async ({
    gw,
  }) => {
    const email = `newcomer-${Date.now()}@example.com`;
    const reg = await gw.call("/api/v1/auth/register", {
      method: "POST",
      json: { email, password: PASSWORD, full_name: "New Comer", timezone: "Asia/Kuala_Lumpur" },
    });
    expect(reg.status).toBe(201);
    const user = (await reg.json()) as Record<string, unknown>;
    expect(user).toMatchObject({
      email,
      full_name: "New Comer",
      status: "active",
      timezone: "Asia/Kuala_Lumpur",
      default_currency: "MYR",
      roles: ["user"],
    });
    expect(user).not.toHaveProperty("password");

    const tokens = await login(gw, email, PASSWORD);
    expect(tokens).toMatchObject({ token_type: "Bearer", expires_in: expect.any(Number) });

    const me = await gw.call("/api/v1/users/me", { token: tokens.access_token });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ id: user.id, email, status: "active" });

    const rates = await gw.call("/api/v1/fx/rates?base=MYR", { token: tokens.access_token });
    expect(rates.status).toBe(200);

    const refreshed = await gw.call("/api/v1/auth/refresh", {
      method: "POST",
      json: { refresh_token: tokens.refresh_token },
    });
    expect(refreshed.status).toBe(200);
    const pair = (await refreshed.json()) as Tokens;
    expect(pair.refresh_token).not.toBe(tokens.refresh_token);

    // The spent refresh token is refused, and the family (the new one too) is dead.
    const reuse = await gw.call("/api/v1/auth/refresh", {
      method: "POST",
      json: { refresh_token: tokens.refresh_token },
    });
    expect(reuse.status).toBe(401);
    const after = await gw.call("/api/v1/auth/refresh", {
      method: "POST",
      json: { refresh_token: pair.refresh_token },
    });
    expect(after.status).toBe(401);

    const out = await gw.call("/api/v1/auth/logout", {
      method: "POST",
      json: { refresh_token: pair.refresh_token },
    });
    expect(out.status).toBe(204);
    expect(await out.text()).toBe("");
  });

  test("register refuses role, status and other unknown fields with 400 (no mass assignment)", async ({
    gw,
  }) => {
    for (const extra of [{ role: "admin" }, { status: "active" }, { roles: ["admin"] }]) {
      const res = await gw.call("/api/v1/auth/register", {
        method: "POST",
        json: { email: `x-${Date.now()}@example.com`, password: PASSWORD, full_name: "X", ...extra },
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as ErrorBody).details.field).toBe(Object.keys(extra)[0]);
    }
  });

  test("a taken email is 409 EMAIL_TAKEN and a weak password 400 naming the field", async ({ gw }) => {
    const { email } = await signUp(gw, "taken");
    const again = await gw.call("/api/v1/auth/register", {
      method: "POST",
      json: { email, password: PASSWORD, full_name: "B" },
    });
    expect(again.status).toBe(409);
    expect(((await again.json()) as ErrorBody).error).toBe("EMAIL_TAKEN");
    const weak = await gw.call("/api/v1/auth/register", {
      method: "POST",
      json: { email: `weak-${Date.now()}@example.com`, password: "short", full_name: "W" },
    });
    expect(weak.status).toBe(400);
    expect(((await weak.json()) as ErrorBody).details.field).toBe("password");
  });

  test("a wrong password is 401", async ({ gw }) => {
    const { email } = await signUp(gw, "wrongpw");
    const res = await gw.call("/api/v1/auth/login", {
      method: "POST",
      json: { email, password: "not-the-password-1" },
    });
    expect(res.status).toBe(401);
  });

  test("API keys: created (201, shown once), used as X-API-Key, listed, revoked (204), then refused", async ({
    gw,
  }) => {
    const { user, tokens } = await signUp(gw, "partner");
    const created = await gw.call("/api/v1/api-keys", {
      method: "POST",
      token: tokens.access_token,
      json: { name: "shop" },
    });
    expect(created.status).toBe(201);
    const key = (await created.json()) as { id: string; name: string; key: string; created_at: string };
    expect(key).toMatchObject({ name: "shop", key: expect.any(String), created_at: expect.any(String) });

    const me = await gw.call("/api/v1/users/me", { headers: { "x-api-key": key.key } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { id: string }).id).toBe(user.id);

    const list = await gw.call("/api/v1/api-keys", { headers: { "x-api-key": key.key } });
    const listed = (await list.json()) as { data: Array<Record<string, unknown>>; has_more: boolean };
    expect(listed.data.map((k) => k.id)).toEqual([key.id]);
    expect(listed.data[0]).not.toHaveProperty("key");

    // Another user cannot revoke it: 404, not 403.
    const other = await signUp(gw, "other");
    const foreign = await gw.call(`/api/v1/api-keys/${key.id}`, {
      method: "DELETE",
      token: other.tokens.access_token,
    });
    expect(foreign.status).toBe(404);

    const revoked = await gw.call(`/api/v1/api-keys/${key.id}`, {
      method: "DELETE",
      token: tokens.access_token,
    });
    expect(revoked.status).toBe(204);
    const refused = await gw.call("/api/v1/users/me", { headers: { "x-api-key": key.key } });
    expect(refused.status).toBe(401);
  });

  test("a user calling an admin route is 403; the admin gets through and sets a status by its word", async ({
    gw,
  }) => {
    const { user, tokens } = await signUp(gw, "plain");
    const forbidden = await gw.call(`/api/v1/users/${user.id}`, { token: tokens.access_token });
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as ErrorBody).error).toBe("FORBIDDEN");

    const admin = await login(gw, ADMIN_EMAIL, ADMIN_PASSWORD);
    const got = await gw.call(`/api/v1/users/${user.id}`, { token: admin.access_token });
    expect(got.status).toBe(200);
    const suspended = await gw.call(`/api/v1/users/${user.id}/status`, {
      method: "PATCH",
      token: admin.access_token,
      json: { status: "suspended" },
    });
    expect(suspended.status).toBe(200);
    expect(((await suspended.json()) as { status: string }).status).toBe("suspended");
    const badWord = await gw.call(`/api/v1/users/${user.id}/status`, {
      method: "PATCH",
      token: admin.access_token,
      json: { status: "SUSPENDED_FOREVER" },
    });
    expect(badWord.status).toBe(400);
    expect(((await badWord.json()) as ErrorBody).details).toMatchObject({ field: "status" });
  });

  test("the JWKS is public, and ready is 200 with every dependency up", async ({ gw }) => {
    const jwks = await gw.call("/.well-known/jwks.json");
    expect(jwks.status).toBe(200);
    const { keys } = (await jwks.json()) as { keys: Array<Record<string, string>> };
    expect(keys[0]).toMatchObject({
      kty: "OKP",
      crv: "Ed25519",
      alg: "EdDSA",
      use: "sig",
      kid: expect.any(String),
    });
    const ready = await gw.call("/ready");
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: "ready",
      checks: { redis: "ok", fx: "ok", identity: "ok" },
    });
  });

  test("passwords, tokens and API keys going through never reach the gateway's or identity's logs", async ({
    gw,
  }) => {
    // Every kind of secret the identity routes carry, in requests and in answers.
    const { tokens } = await signUp(gw, "secretive");
    const refreshed = await gw.call("/api/v1/auth/refresh", {
      method: "POST",
      json: { refresh_token: tokens.refresh_token },
    });
    expect(refreshed.status).toBe(200);
    const pair = (await refreshed.json()) as Tokens;
    const created = await gw.call("/api/v1/api-keys", {
      method: "POST",
      token: pair.access_token,
      json: { name: "logged?" },
    });
    expect(created.status).toBe(201);
    const { key } = (await created.json()) as { key: string };
    expect((await gw.call("/api/v1/users/me", { headers: { "x-api-key": key } })).status).toBe(200);
    const admin = await login(gw, ADMIN_EMAIL, ADMIN_PASSWORD);
    const secrets = [
      PASSWORD,
      ADMIN_PASSWORD,
      tokens.access_token,
      tokens.refresh_token,
      pair.access_token,
      pair.refresh_token,
      key,
      admin.access_token,
      admin.refresh_token,
    ];

    const logs = gw.logs() + gw.identityLogs();
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of secrets) expect(logs).not.toContain(secret);
  });
});
