import { Code } from "@connectrpc/connect";
import { Role } from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import { describe, expect } from "vitest";
import { bearer, expectRefusal, identityTest, tamper } from "./test/harness.js";

const test = identityTest();
const apiKey = (key: string) => ({ headers: { "x-api-key": key } });

describe("API keys", () => {
  test("created with a name, shown once, listed without the secret, acting as the owner", async ({
    identity,
    pg,
  }) => {
    const u = await identity.signUp("partner");
    const created = await identity.client.createApiKey({ name: "shop backend" }, bearer(u.accessToken));
    expect(created.key).toMatch(/^fk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(created.key.startsWith(created.prefix)).toBe(true);
    expect(created.name).toBe("shop backend");

    const list = await identity.client.listApiKeys({}, bearer(u.accessToken));
    expect(list.data.map((k) => [k.id, k.name, k.prefix])).toEqual([
      [created.id, "shop backend", created.prefix],
    ]);
    expect(JSON.stringify(list.data.map((k) => [k.id, k.name, k.prefix]))).not.toContain(
      created.key.slice(created.prefix.length + 1),
    );

    const { rows } = await pg.pool.query("SELECT * FROM api_keys WHERE id = $1", [created.id]);
    expect(JSON.stringify(rows)).not.toContain(created.key.slice(created.prefix.length + 1));

    const me = await identity.client.getMe({}, apiKey(created.key));
    expect(me.user?.id).toBe(u.id);
  });

  test("VerifyApiKey is for services only and names the owner", async ({ identity }) => {
    const u = await identity.signUp("owner");
    const { key, id } = await identity.client.createApiKey({ name: "k" }, bearer(u.accessToken));
    const svc = await identity.serviceToken();
    const verified = await identity.client.verifyApiKey({ key }, bearer(svc));
    expect(verified).toMatchObject({ userId: u.id, roles: [Role.USER], apiKeyId: id });
    await expectRefusal(
      identity.client.verifyApiKey({ key }, bearer(u.accessToken)),
      Code.PermissionDenied,
      "FORBIDDEN",
    );
    await expectRefusal(identity.client.verifyApiKey({ key }), Code.Unauthenticated, "UNAUTHENTICATED");
    await expectRefusal(
      identity.client.verifyApiKey({ key: tamper(key) }, bearer(svc)),
      Code.Unauthenticated,
      "UNAUTHENTICATED",
    );
    await expectRefusal(
      identity.client.verifyApiKey({ key: "fk_junk" }, bearer(svc)),
      Code.Unauthenticated,
      "UNAUTHENTICATED",
    );
  });

  test("a revoked key stops working at once; another user's key is NOT_FOUND", async ({ identity }) => {
    const u = await identity.signUp("revoker");
    const other = await identity.signUp("other");
    const { key, id } = await identity.client.createApiKey({ name: "k" }, bearer(u.accessToken));
    await expectRefusal(
      identity.client.revokeApiKey({ id }, bearer(other.accessToken)),
      Code.NotFound,
      "NOT_FOUND",
    );
    await identity.client.getMe({}, apiKey(key));
    await identity.client.revokeApiKey({ id }, bearer(u.accessToken));
    await expectRefusal(identity.client.getMe({}, apiKey(key)), Code.Unauthenticated, "UNAUTHENTICATED");
    await expectRefusal(
      identity.client.verifyApiKey({ key }, bearer(await identity.serviceToken())),
      Code.Unauthenticated,
      "UNAUTHENTICATED",
    );
    await expectRefusal(
      identity.client.revokeApiKey({ id }, bearer(u.accessToken)),
      Code.NotFound,
      "NOT_FOUND",
    );
    expect((await identity.client.listApiKeys({}, bearer(u.accessToken))).data).toEqual([]);
  });

  test("an API key cannot mint API keys", async ({ identity }) => {
    const u = await identity.signUp("minter");
    const { key } = await identity.client.createApiKey({ name: "k" }, bearer(u.accessToken));
    await expectRefusal(
      identity.client.createApiKey({ name: "k2" }, apiKey(key)),
      Code.PermissionDenied,
      "FORBIDDEN",
    );
  });

  test("lists page newest first", async ({ identity }) => {
    const u = await identity.signUp("pager");
    for (let i = 0; i < 5; i++) {
      await identity.client.createApiKey({ name: `key ${i}` }, bearer(u.accessToken));
      identity.clock.advance(1_000);
    }
    const first = await identity.client.listApiKeys({ limit: 2 }, bearer(u.accessToken));
    expect(first.data.map((k) => k.name)).toEqual(["key 4", "key 3"]);
    expect(first.hasMore).toBe(true);
    const second = await identity.client.listApiKeys(
      { limit: 2, cursor: first.nextCursor },
      bearer(u.accessToken),
    );
    expect(second.data.map((k) => k.name)).toEqual(["key 2", "key 1"]);
    const third = await identity.client.listApiKeys(
      { limit: 2, cursor: second.nextCursor },
      bearer(u.accessToken),
    );
    expect(third.data.map((k) => k.name)).toEqual(["key 0"]);
    expect(third.hasMore).toBe(false);
    await expectRefusal(
      identity.client.listApiKeys({ cursor: "garbage" }, bearer(u.accessToken)),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
      { field: "cursor" },
    );
    await expectRefusal(
      identity.client.createApiKey({ name: " " }, bearer(u.accessToken)),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
      {
        field: "name",
      },
    );
  });
});
