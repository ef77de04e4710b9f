import { randomUUID } from "node:crypto";
import { WalletService } from "@fintech/proto/fintech/wallet/v1/wallet_pb.js";
import { grpcClient, unary, waitFor } from "@fintech/testing";
import { status } from "@grpc/grpc-js";
import { describe, expect } from "vitest";
import type { Platform, TestUser } from "./test/harness.js";
import { platformTest } from "./test/harness.js";

// A suspension, deletion or role change applies to tokens already issued, within 5 s, through the gateway and
// on the wallet's own port; and a quote is its creator's.
const test = platformTest();

const WITHIN_MS = 5000;

/** Polls the gateway until `path` answers `expected` for `token`; fails after 5 s. */
async function answersWithin(p: Platform, token: string, path: string, expected: number): Promise<void> {
  const started = Date.now();
  await waitFor(async () => (await p.api("GET", path, { token })).status === expected, {
    timeoutMs: WITHIN_MS,
  });
  expect(Date.now() - started).toBeLessThanOrEqual(WITHIN_MS + 1000);
}

/** The gRPC status of ListWallets on the wallet's port with `headers`. */
async function walletPortStatus(p: Platform, headers: Record<string, string>): Promise<number> {
  const client = grpcClient(p.walletPort);
  try {
    await unary(client, WalletService.method.listWallets, {}, headers);
    return status.OK;
  } catch (err) {
    return (err as { code: number }).code;
  } finally {
    client.close();
  }
}

async function apiKeyOf(p: Platform, user: TestUser): Promise<string> {
  const res = await p.api<{ key: string }>("POST", "/api/v1/api-keys", {
    token: user.token,
    json: { name: "k" },
  });
  expect(res.status).toBe(201);
  return res.body.key;
}

describe("revocation", () => {
  test("a suspended user's token and API key get 401 within 5 s everywhere, identity's routes included", async ({
    platform: p,
  }) => {
    const admin = await p.admin();
    const ana = await p.signup();
    const key = await apiKeyOf(p, ana);
    // Warm every cache along the way, so the test sees revocation, not a first lookup.
    for (const path of ["/api/v1/wallets", "/api/v1/transactions", "/api/v1/users/me"]) {
      expect((await p.api("GET", path, { token: ana.token })).status).toBe(200);
    }
    expect((await p.api("GET", "/api/v1/wallets", { headers: { "x-api-key": key } })).status).toBe(200);
    expect(await walletPortStatus(p, { authorization: `Bearer ${ana.token}` })).toBe(status.OK);

    const suspended = await p.api("PATCH", `/api/v1/users/${ana.id}/status`, {
      token: admin.token,
      json: { status: "suspended" },
    });
    expect(suspended.status).toBe(200);

    await answersWithin(p, ana.token, "/api/v1/wallets", 401);
    await answersWithin(p, ana.token, "/api/v1/transactions", 401);
    await answersWithin(p, ana.token, "/api/v1/users/me", 401);
    const me = await p.api<{ error: string }>("GET", "/api/v1/users/me", { token: ana.token });
    expect(me.body.error).toBe("UNAUTHENTICATED");
    await waitFor(
      async () => (await p.api("GET", "/api/v1/wallets", { headers: { "x-api-key": key } })).status === 401,
      { timeoutMs: WITHIN_MS },
    );
    await waitFor(
      async () =>
        (await walletPortStatus(p, { authorization: `Bearer ${ana.token}` })) === status.UNAUTHENTICATED,
      { timeoutMs: WITHIN_MS },
    );
    // Login keeps its documented answer for a suspended user.
    const login = await p.api<{ error: string }>("POST", "/api/v1/auth/login", {
      json: { email: ana.email, password: "Correct horse 42 battery" },
    });
    expect([login.status, login.body.error]).toEqual([422, "USER_NOT_ACTIVE"]);
  });

  test("a deleted user's token gets 401 within 5 s, at the gateway and on the wallet's port", async ({
    platform: p,
  }) => {
    const admin = await p.admin();
    const bo = await p.signup();
    expect((await p.api("GET", "/api/v1/wallets", { token: bo.token })).status).toBe(200);
    expect((await p.api("DELETE", `/api/v1/users/${bo.id}`, { token: admin.token })).status).toBe(204);

    await answersWithin(p, bo.token, "/api/v1/wallets", 401);
    await answersWithin(p, bo.token, "/api/v1/transactions", 401);
    await answersWithin(p, bo.token, "/api/v1/users/me", 401);
    await waitFor(
      async () =>
        (await walletPortStatus(p, { authorization: `Bearer ${bo.token}` })) === status.UNAUTHENTICATED,
      { timeoutMs: WITHIN_MS },
    );
  });

  test("a demoted admin's token gets 403 on admin routes within 5 s and still works as a user's", async ({
    platform: p,
  }) => {
    const admin = await p.admin();
    const cy = await p.signup();
    const other = await p.signup();
    const promoted = await p.api("PUT", `/api/v1/users/${cy.id}/roles`, {
      token: admin.token,
      json: { roles: ["user", "admin"] },
    });
    expect(promoted.status).toBe(200);
    const login = await p.api<{ access_token: string }>("POST", "/api/v1/auth/login", {
      json: { email: cy.email, password: "Correct horse 42 battery" },
    });
    const token = login.body.access_token;
    expect((await p.api("GET", `/api/v1/users/${other.id}`, { token })).status).toBe(200);
    const reverse = { token, json: { reason: "test" } };
    // As an admin, reversing an unknown transaction is a 404; as a user it is refused outright.
    expect((await p.api("POST", `/api/v1/transactions/${randomUUID()}/reverse`, reverse)).status).toBe(404);

    const demoted = await p.api("PUT", `/api/v1/users/${cy.id}/roles`, {
      token: admin.token,
      json: { roles: ["user"] },
    });
    expect(demoted.status).toBe(200);
    await answersWithin(p, token, `/api/v1/users/${other.id}`, 403);
    await waitFor(
      async () =>
        (await p.api("POST", `/api/v1/transactions/${randomUUID()}/reverse`, reverse)).status === 403,
      { timeoutMs: WITHIN_MS },
    );
    expect((await p.api("GET", "/api/v1/wallets", { token })).status).toBe(200);
  });

  test("a call the gateway forwards does not make the wallet ask identity about the caller again; one on its own port does", async ({
    platform: p,
  }) => {
    const dee = await p.signup();
    const before = p.walletUserLookups;
    // The gateway asked identity about Dee and sends its answer along with its proof: the wallet takes it.
    expect((await p.api("GET", "/api/v1/wallets", { token: dee.token })).status).toBe(200);
    expect((await p.api("GET", "/api/v1/transactions", { token: dee.token })).status).toBe(200);
    expect(p.walletUserLookups).toBe(before);
    // Straight to the wallet's port, with the same token and no gateway: the wallet asks identity itself.
    const other = await p.signup();
    expect(await walletPortStatus(p, { authorization: `Bearer ${other.token}` })).toBe(status.OK);
    expect(p.walletUserLookups).toBe(before + 1);
    // An x-user-access header sent by anyone else is not believed: a suspended user stays refused.
    const admin = await p.admin();
    const suspended = await p.api("PATCH", `/api/v1/users/${other.id}/status`, {
      token: admin.token,
      json: { status: "suspended" },
    });
    expect(suspended.status).toBe(200);
    await waitFor(
      async () =>
        (await walletPortStatus(p, {
          authorization: `Bearer ${other.token}`,
          "x-user-access": `user=${other.id}&roles=user&age=0`,
          "x-forwarded-by": `Bearer ${other.token}`,
        })) === status.UNAUTHENTICATED,
      { timeoutMs: WITHIN_MS },
    );
  });

  test("another user's quote is 404, the creator's is theirs", async ({ platform: p }) => {
    const ana = await p.signup();
    const bo = await p.signup();
    const created = await p.api<{ quote_id: string }>("POST", "/api/v1/fx/quotes", {
      token: ana.token,
      json: { from_currency: "SGD", to_currency: "MYR", amount: "10.00" },
    });
    expect(created.status).toBe(201);
    const path = `/api/v1/fx/quotes/${created.body.quote_id}`;
    expect((await p.api("GET", path, { token: ana.token })).status).toBe(200);
    // Someone else's quote answers exactly as a quote that does not exist.
    const theirs = await p.api<{ error: string }>("GET", path, { token: bo.token });
    const unknown = await p.api<{ error: string }>("GET", `/api/v1/fx/quotes/${randomUUID()}`, {
      token: bo.token,
    });
    expect(theirs.status).toBe(404);
    expect(theirs.body.error).toBe(unknown.body.error);
  });
});
