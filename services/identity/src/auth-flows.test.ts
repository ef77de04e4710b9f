import { Code } from "@connectrpc/connect";
import { createJwtVerifier } from "@fintech/auth";
import { Role, UserStatus } from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { describe, expect } from "vitest";
import { bearer, expectRefusal, identityTest, PASSWORD } from "./test/harness.js";

const test = identityTest();

describe("register", () => {
  test("creates an active user with lower-cased email and the defaults", async ({ identity }) => {
    const { user } = await identity.client.register({
      email: "  Alice.Smith@Example.COM ",
      password: PASSWORD,
      fullName: " Alice Smith ",
    });
    expect(user).toMatchObject({
      email: "alice.smith@example.com",
      fullName: "Alice Smith",
      status: UserStatus.ACTIVE,
      timezone: "UTC",
      defaultCurrency: "MYR",
      roles: [Role.USER],
    });
    expect(user?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(user?.createdAt).toBeDefined();
  });

  test("keeps a chosen time zone (canonical) and currency", async ({ identity }) => {
    const { user } = await identity.client.register({
      email: "bob@example.com",
      password: PASSWORD,
      fullName: "Bob",
      timezone: "asia/kuala_lumpur",
      defaultCurrency: "sgd",
    });
    expect(user).toMatchObject({ timezone: "Asia/Kuala_Lumpur", defaultCurrency: "SGD" });
  });

  test("refuses a taken email whatever its case", async ({ identity }) => {
    await identity.client.register({ email: "carol@example.com", password: PASSWORD, fullName: "Carol" });
    await expectRefusal(
      identity.client.register({ email: "CAROL@example.com", password: PASSWORD, fullName: "Carol 2" }),
      Code.AlreadyExists,
      "EMAIL_TAKEN",
    );
  });

  test("refuses bad input with the field named", async ({ identity }) => {
    const ok = { email: "dave@example.com", password: PASSWORD, fullName: "Dave" };
    const cases: Array<[Partial<typeof ok> & Record<string, string>, string]> = [
      [{ email: "not-an-email" }, "email"],
      [{ password: "short" }, "password"],
      [{ password: "Password1234!" }, "password"],
      [{ password: "dave@example.com-1" }, "password"],
      [{ fullName: "  " }, "full_name"],
      [{ timezone: "Mars/Olympus" }, "timezone"],
      [{ timezone: "+08:00" }, "timezone"],
      [{ defaultCurrency: "XYZ" }, "default_currency"],
    ];
    for (const [change, field] of cases) {
      await expectRefusal(
        identity.client.register({ ...ok, ...change }),
        Code.InvalidArgument,
        "VALIDATION_ERROR",
        { field },
      );
    }
  });
});

describe("login, me, refresh, logout", () => {
  test("login gives an EdDSA access token with kid that the published JWKS verifies", async ({
    identity,
  }) => {
    const { user } = await identity.client.register({
      email: "erin@example.com",
      password: PASSWORD,
      fullName: "Erin",
    });
    const res = await identity.client.login({ email: "ERIN@example.com", password: PASSWORD });
    expect(res).toMatchObject({ tokenType: "Bearer", expiresIn: 900 });
    expect(res.refreshToken).toMatch(/^rt_/);
    const header = decodeProtectedHeader(res.accessToken);
    expect(header).toMatchObject({ alg: "EdDSA", typ: "at+jwt" });
    const { keys } = await identity.client.getJwks({});
    expect(keys.map((k) => k.kid)).toContain(header.kid);
    expect(keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
    expect(decodeJwt(res.accessToken)).toMatchObject({
      sub: user?.id,
      roles: ["user"],
      iss: "fintech-identity",
      aud: "fintech",
    });

    // What the gateway and every other service do with it.
    const verifier = createJwtVerifier({
      getJwks: async () => ({ keys: keys.map((k) => ({ ...k })) }),
      issuer: "fintech-identity",
      audience: "fintech",
      clock: () => identity.clock.now(),
    });
    expect(await verifier.verify(res.accessToken)).toEqual({
      kind: "user",
      userId: user?.id,
      roles: ["user"],
      credential: "jwt",
    });
  });

  test("a wrong password or unknown email is UNAUTHENTICATED, the same answer", async ({ identity }) => {
    await identity.signUp("frank@example.com");
    const wrong = await expectRefusal(
      identity.client.login({ email: "frank@example.com", password: "plum-Orchard-78" }),
      Code.Unauthenticated,
      "UNAUTHENTICATED",
    );
    const unknown = await expectRefusal(
      identity.client.login({ email: "nobody@example.com", password: PASSWORD }),
      Code.Unauthenticated,
      "UNAUTHENTICATED",
    );
    expect(unknown.rawMessage).toBe(wrong.rawMessage);
  });

  test("me needs a valid token and returns the caller; update changes only what is sent", async ({
    identity,
  }) => {
    const u = await identity.signUp("grace");
    await expectRefusal(identity.client.getMe({}), Code.Unauthenticated, "UNAUTHENTICATED");
    await expectRefusal(
      identity.client.getMe({}, bearer(`${u.accessToken}x`)),
      Code.Unauthenticated,
      "UNAUTHENTICATED",
    );
    const { user } = await identity.client.getMe({}, bearer(u.accessToken));
    expect(user).toMatchObject({ id: u.id, email: u.email, fullName: "Test grace" });

    const updated = await identity.client.updateMe({ timezone: "Asia/Singapore" }, bearer(u.accessToken));
    expect(updated.user).toMatchObject({
      timezone: "Asia/Singapore",
      fullName: "Test grace",
      defaultCurrency: "MYR",
    });
    const again = await identity.client.updateMe(
      { fullName: "Grace H", defaultCurrency: "usd" },
      bearer(u.accessToken),
    );
    expect(again.user).toMatchObject({
      timezone: "Asia/Singapore",
      fullName: "Grace H",
      defaultCurrency: "USD",
    });
    await expectRefusal(
      identity.client.updateMe({ timezone: "Nowhere/Land" }, bearer(u.accessToken)),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
      { field: "timezone" },
    );
  });

  test("an expired access token is refused", async ({ identity }) => {
    const u = await identity.signUp("heidi");
    identity.clock.advance(901_000 + 5_000);
    await expectRefusal(
      identity.client.getMe({}, bearer(u.accessToken)),
      Code.Unauthenticated,
      "UNAUTHENTICATED",
    );
  });

  test("refresh rotates: a new pair, and the old refresh token is dead", async ({ identity }) => {
    const u = await identity.signUp("ivan");
    const next = await identity.client.refresh({ refreshToken: u.refreshToken });
    expect(next.refreshToken).not.toBe(u.refreshToken);
    expect(next.tokenType).toBe("Bearer");
    expect((await identity.client.getMe({}, bearer(next.accessToken))).user?.id).toBe(u.id);
    const third = await identity.client.refresh({ refreshToken: next.refreshToken });
    expect(third.refreshToken).not.toBe(next.refreshToken);
  });

  test("reusing a spent refresh token revokes the whole family", async ({ identity }) => {
    const u = await identity.signUp("judy");
    const next = await identity.client.refresh({ refreshToken: u.refreshToken });
    // The attacker (or the victim) replays the spent token...
    await expectRefusal(
      identity.client.refresh({ refreshToken: u.refreshToken }),
      Code.Unauthenticated,
      "UNAUTHENTICATED",
    );
    // ...and the newest token of the family is dead too.
    await expectRefusal(
      identity.client.refresh({ refreshToken: next.refreshToken }),
      Code.Unauthenticated,
      "UNAUTHENTICATED",
    );
    // Another login (another family) is unaffected.
    const other = await identity.client.login({ email: u.email, password: PASSWORD });
    await identity.client.refresh({ refreshToken: other.refreshToken });
  });

  test("logout revokes the family; logging out twice or with junk is fine", async ({ identity }) => {
    const u = await identity.signUp("ken");
    const next = await identity.client.refresh({ refreshToken: u.refreshToken });
    await identity.client.logout({ refreshToken: next.refreshToken });
    await identity.client.logout({ refreshToken: next.refreshToken });
    await identity.client.logout({ refreshToken: "rt_unknown" });
    await expectRefusal(
      identity.client.refresh({ refreshToken: next.refreshToken }),
      Code.Unauthenticated,
      "UNAUTHENTICATED",
    );
  });

  test("an expired refresh token is refused", async ({ identity }) => {
    const u = await identity.signUp("leo");
    identity.clock.advance(30 * 86_400_000 + 1);
    await expectRefusal(
      identity.client.refresh({ refreshToken: u.refreshToken }),
      Code.Unauthenticated,
      "UNAUTHENTICATED",
    );
  });

  test("refresh tokens are stored as hashes only", async ({ identity, pg }) => {
    const u = await identity.signUp("mallory");
    const { rows } = await pg.pool.query<{ t: string }>(
      "SELECT encode(token_hash, 'escape') AS t FROM refresh_tokens",
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r.t).not.toContain(u.refreshToken.slice(3));
  });
});
