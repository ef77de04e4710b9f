import { Code, ConnectError } from "@connectrpc/connect";
import { errorInfoOf } from "@fintech/platform";
import { base64url, exportSPKI, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { signAccessToken } from "./access-token.js";
import { createJwtVerifier } from "./jwt-verifier.js";
import type { Principal } from "./principal.js";
import { jwksSource, testClock, testKey } from "./test/keys.js";

const issuer = "fintech-identity";
const audience = "fintech";
const alice: Principal = { kind: "user", userId: "user-1", roles: ["user"], credential: "jwt" };

async function setup() {
  const key = await testKey("k1");
  const source = jwksSource([key]);
  const clock = testClock();
  const verifier = createJwtVerifier({ getJwks: source.getJwks, issuer, audience, clock: clock.now });
  const sign = (over: Partial<Parameters<typeof signAccessToken>[0]> = {}) =>
    signAccessToken({
      privateKey: key.privateKey,
      kid: key.kid,
      issuer,
      audience,
      principal: alice,
      ttlSeconds: 900,
      now: clock.now(),
      ...over,
    }).then((t) => t.token);
  return { key, source, clock, verifier, sign };
}

const enc = (value: unknown) => base64url.encode(JSON.stringify(value));

function unsigned(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  return `${enc(header)}.${enc(payload)}.`;
}

function claims(now: Date, over: Record<string, unknown> = {}): Record<string, unknown> {
  const iat = Math.floor(now.getTime() / 1000);
  return {
    iss: issuer,
    aud: audience,
    sub: "user-1",
    roles: ["admin"],
    iat,
    nbf: iat,
    exp: iat + 900,
    ...over,
  };
}

async function refusal(promise: Promise<unknown>, token?: string): Promise<ConnectError> {
  const err = await promise.then(
    () => {
      throw new Error("expected the token to be refused");
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConnectError);
  const ce = err as ConnectError;
  expect(ce.code).toBe(Code.Unauthenticated);
  expect(errorInfoOf(ce)?.reason).toBe("UNAUTHENTICATED");
  if (token !== undefined) {
    expect(ce.message).not.toContain(token);
    for (const part of token.split(".").filter((p) => p.length > 8)) expect(ce.message).not.toContain(part);
  }
  return ce;
}

describe("createJwtVerifier", () => {
  it("accepts a token it issued and returns the user principal", async () => {
    const { verifier, sign } = await setup();
    expect(await verifier.verify(await sign())).toEqual(alice);
  });

  it("returns a service principal for a service token", async () => {
    const { verifier, sign } = await setup();
    const token = await sign({ principal: { kind: "service", service: "wallet" } });
    expect(await verifier.verify(token)).toEqual({ kind: "service", service: "wallet" });
  });

  it.each(["none", "noNE", "NONE", "None"])('refuses alg "%s"', async (alg) => {
    const { verifier, clock } = await setup();
    const token = unsigned({ alg, kid: "k1", typ: "at+jwt" }, claims(clock.now()));
    const err = await refusal(verifier.verify(token), token);
    expect(err.rawMessage).toMatch(/algorithm/);
  });

  it("refuses HS256 signed with the public key as the HMAC secret", async () => {
    const { verifier, clock, key } = await setup();
    const secrets = [
      base64url.decode(String(key.jwk.x)),
      new TextEncoder().encode(String(key.jwk.x)),
      new TextEncoder().encode(JSON.stringify(key.jwk)),
      new TextEncoder().encode(await exportSPKI(key.publicKey)),
    ];
    for (const secret of secrets) {
      const token = await new SignJWT(claims(clock.now()))
        .setProtectedHeader({ alg: "HS256", kid: "k1", typ: "at+jwt" })
        .sign(secret);
      await refusal(verifier.verify(token), token);
    }
  });

  it("refuses a token whose header claims EdDSA but carries an HMAC signature", async () => {
    const { verifier, clock, key } = await setup();
    const hs = await new SignJWT(claims(clock.now()))
      .setProtectedHeader({ alg: "HS256", kid: "k1", typ: "at+jwt" })
      .sign(base64url.decode(String(key.jwk.x)));
    const [, payload, signature] = hs.split(".");
    const token = `${enc({ alg: "EdDSA", kid: "k1", typ: "at+jwt" })}.${payload}.${signature}`;
    const err = await refusal(verifier.verify(token), token);
    expect(err.rawMessage).toMatch(/signature/);
  });

  it("refuses an expired token and a token not valid yet", async () => {
    const { verifier, sign, clock } = await setup();
    const token = await sign({ ttlSeconds: 60 });
    clock.advance(60_000 + 5_000 + 1_000);
    expect((await refusal(verifier.verify(token), token)).rawMessage).toMatch(/expired/);
    const future = await sign({ now: new Date(clock.now().getTime() + 3_600_000) });
    expect((await refusal(verifier.verify(future), future)).rawMessage).toMatch(/nbf/);
  });

  it("refuses the wrong issuer and the wrong audience", async () => {
    const { verifier, sign } = await setup();
    const badIss = await sign({ issuer: "someone-else" });
    expect((await refusal(verifier.verify(badIss), badIss)).rawMessage).toMatch(/iss/);
    const badAud = await sign({ audience: "other-platform" });
    expect((await refusal(verifier.verify(badAud), badAud)).rawMessage).toMatch(/aud/);
  });

  it("refuses a tampered payload", async () => {
    const { verifier, sign, clock } = await setup();
    const [header, , signature] = (await sign()).split(".");
    const token = `${header}.${enc(claims(clock.now(), { roles: ["admin"] }))}.${signature}`;
    expect((await refusal(verifier.verify(token), token)).rawMessage).toMatch(/signature/);
  });

  it("refuses a token without a kid, without typ at+jwt, or garbage", async () => {
    const { verifier, key, clock } = await setup();
    const noKid = await new SignJWT(claims(clock.now()))
      .setProtectedHeader({ alg: "EdDSA", typ: "at+jwt" })
      .sign(key.privateKey);
    expect((await refusal(verifier.verify(noKid), noKid)).rawMessage).toMatch(/kid/);
    const noTyp = await new SignJWT(claims(clock.now()))
      .setProtectedHeader({ alg: "EdDSA", kid: "k1" })
      .sign(key.privateKey);
    await refusal(verifier.verify(noTyp), noTyp);
    for (const junk of ["", "abc", "a.b.c", "x".repeat(10_000)]) await refusal(verifier.verify(junk));
  });

  it("refuses a service token whose sub does not match svc", async () => {
    const { verifier, key, clock } = await setup();
    const token = await new SignJWT(claims(clock.now(), { sub: "user-1", svc: "wallet" }))
      .setProtectedHeader({ alg: "EdDSA", kid: "k1", typ: "at+jwt" })
      .sign(key.privateKey);
    await refusal(verifier.verify(token), token);
  });

  it("refuses an unknown kid, reloading the JWKS at most once per refreshMs", async () => {
    const { verifier, source, clock } = await setup();
    const stranger = await testKey("k-unknown");
    const token = await signAccessToken({
      privateKey: stranger.privateKey,
      kid: stranger.kid,
      issuer,
      audience,
      principal: alice,
      ttlSeconds: 900,
      now: clock.now(),
    });
    await refusal(verifier.verify(token.token), token.token);
    expect(source.loads).toBe(1);
    clock.advance(1_000);
    await Promise.all(Array.from({ length: 50 }, () => refusal(verifier.verify(token.token))));
    expect(source.loads).toBe(1);
    clock.advance(30_000);
    await Promise.all(Array.from({ length: 50 }, () => refusal(verifier.verify(token.token))));
    expect(source.loads).toBe(2);
  });

  it("ignores private and non-Ed25519 members of the JWKS", async () => {
    const key = await testKey("k1");
    const clock = testClock();
    const verifier = createJwtVerifier({
      getJwks: async () => ({
        keys: [
          { kty: "oct", k: "c2VjcmV0", kid: "k1", alg: "HS256" },
          { ...key.jwk, alg: "RS256" },
        ],
      }),
      issuer,
      audience,
      clock: clock.now,
    });
    const { token } = await signAccessToken({
      privateKey: key.privateKey,
      kid: "k1",
      issuer,
      audience,
      principal: alice,
      ttlSeconds: 900,
      now: clock.now(),
    });
    await refusal(verifier.verify(token), token);
  });

  it("rotation: a new kid is picked up, the old key verifies until it leaves the JWKS", async () => {
    const { verifier, source, clock, sign, key } = await setup();
    const oldToken = await sign();
    expect(await verifier.verify(oldToken)).toEqual(alice);

    const next = await testKey("k2");
    source.set([next, key]);
    clock.advance(31_000);
    const newToken = await signAccessToken({
      privateKey: next.privateKey,
      kid: next.kid,
      issuer,
      audience,
      principal: alice,
      ttlSeconds: 900,
      now: clock.now(),
    });
    expect(await verifier.verify(newToken.token)).toEqual(alice);
    expect(await verifier.verify(oldToken)).toEqual(alice);

    // The old key leaves the set; once the cached set is older than maxAgeMs it no longer verifies.
    source.set([next]);
    clock.advance(60_000);
    expect(await verifier.verify(oldToken)).toEqual(alice);
    clock.advance(300_000);
    await refusal(verifier.verify(oldToken), oldToken);
    expect(await verifier.verify(newToken.token)).toEqual(alice);
  });

  it("keeps verifying with the cached keys while the JWKS cannot be reloaded", async () => {
    const key = await testKey("k1");
    const clock = testClock();
    let fail = false;
    const verifier = createJwtVerifier({
      getJwks: async () => {
        if (fail) throw new Error("identity down");
        return { keys: [key.jwk] };
      },
      issuer,
      audience,
      clock: clock.now,
    });
    const { token } = await signAccessToken({
      privateKey: key.privateKey,
      kid: "k1",
      issuer,
      audience,
      principal: alice,
      ttlSeconds: 3600,
      now: clock.now(),
    });
    await verifier.verify(token);
    fail = true;
    clock.advance(400_000);
    expect(await verifier.verify(token)).toEqual(alice);
  });

  it("answers Unavailable when no JWKS was ever loaded", async () => {
    const key = await testKey("k1");
    const verifier = createJwtVerifier({
      getJwks: async () => {
        throw new Error("identity down");
      },
      issuer,
      audience,
    });
    const { token } = await signAccessToken({
      privateKey: key.privateKey,
      kid: "k1",
      issuer,
      audience,
      principal: alice,
      ttlSeconds: 60,
      now: new Date(),
    });
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: Code.Unavailable });
  });
});
