import { Code } from "@connectrpc/connect";
import { decodeProtectedHeader } from "jose";
import pino from "pino";
import { describe, expect } from "vitest";
import { parseIdentityConfig } from "./config.js";
import { build } from "./server.js";
import { bearer, expectRefusal, identityTest } from "./test/harness.js";

const test = identityTest();
const kidOf = (token: string) => decodeProtectedHeader(token).kid;

describe("signing keys", () => {
  test("rotation publishes the new key first, then signs with it; the old key verifies until its tokens expired", async ({
    identity,
  }) => {
    const admin = await identity.adminToken();
    const u = await identity.signUp("rotator");
    const oldKid = kidOf(u.accessToken);
    expect((await identity.client.getJwks({})).keys.map((k) => k.kid)).toEqual([oldKid]);

    const rotated = await identity.client.rotateSigningKey({}, bearer(admin));
    const jwks = (await identity.client.getJwks({})).keys.map((k) => k.kid);
    expect(jwks).toEqual([oldKid, rotated.kid]);
    // Not yet active: verifiers get a minute to learn the new key.
    expect(kidOf(await identity.adminToken())).toBe(oldKid);

    identity.clock.advance(60_000);
    const fresh = await identity.adminToken();
    expect(kidOf(fresh)).toBe(rotated.kid);
    await identity.client.getMe({}, bearer(fresh));
    // A token the old key signed before the switch still works.
    const lastOld = u.accessToken;
    await identity.client.getMe({}, bearer(lastOld));

    // Published until every token it signed has expired (15 min TTL + cache and skew margins).
    identity.clock.advance(840_000);
    expect((await identity.client.getJwks({})).keys.map((k) => k.kid)).toContain(oldKid);
    identity.clock.advance(180_000);
    expect((await identity.client.getJwks({})).keys.map((k) => k.kid)).toEqual([rotated.kid]);
    await expectRefusal(identity.client.getMe({}, bearer(lastOld)), Code.Unauthenticated, "UNAUTHENTICATED");
    await identity.client.getMe({}, bearer(await identity.adminToken()));
  });

  test("a restart keeps the keys; a second replica does not make its own", async ({ identity, pg, nats }) => {
    const before = (await identity.client.getJwks({})).keys.map((k) => k.kid);
    const config = {
      ...parseIdentityConfig({ DB_SCHEMA: pg.schema, EVENTS_NAMESPACE: nats.namespace }),
      METRICS_PORT: 0,
    };
    const replica = build(config, {
      pool: pg.pool,
      nc: nats.nc,
      logger: pino({ level: "silent" }),
      clock: identity.clock,
    });
    expect(await replica.keys.ensure()).toBe(false);
    expect((await replica.keys.jwks()).keys.map((k) => k.kid)).toEqual(before);
  });
});
