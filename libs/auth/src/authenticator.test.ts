import { Code } from "@connectrpc/connect";
import { describe, expect, it, vi } from "vitest";
import { signAccessToken } from "./access-token.js";
import { createAuthenticator } from "./authenticator.js";
import { createJwtVerifier } from "./jwt-verifier.js";
import type { Principal } from "./principal.js";
import { jwksSource, testClock, testKey } from "./test/keys.js";

const owner: Principal = { kind: "user", userId: "u-9", roles: ["user"], credential: "api_key" };

async function setup(verifyApiKey?: (key: string) => Promise<Principal | undefined>) {
  const key = await testKey("k1");
  const clock = testClock();
  const jwt = createJwtVerifier({
    getJwks: jwksSource([key]).getJwks,
    issuer: "i",
    audience: "a",
    clock: clock.now,
  });
  const auth = createAuthenticator({ jwt, verifyApiKey, clock: clock.now });
  const { token } = await signAccessToken({
    privateKey: key.privateKey,
    kid: "k1",
    issuer: "i",
    audience: "a",
    principal: { kind: "user", userId: "u-1", roles: ["admin", "user"], credential: "jwt" },
    ttlSeconds: 900,
    now: clock.now(),
  });
  return { auth, clock, token };
}

describe("createAuthenticator", () => {
  it("is undefined without credentials", async () => {
    const { auth } = await setup();
    expect(await auth.authenticate(new Headers())).toBeUndefined();
  });

  it("verifies a bearer token, any case of the scheme", async () => {
    const { auth, token } = await setup();
    for (const scheme of ["Bearer", "bearer", "BEARER"]) {
      const p = await auth.authenticate(new Headers({ authorization: `${scheme} ${token}` }));
      expect(p).toEqual({ kind: "user", userId: "u-1", roles: ["admin", "user"], credential: "jwt" });
    }
  });

  it("refuses a malformed authorization header or a bad token", async () => {
    const { auth, token } = await setup();
    for (const value of [`Basic ${token}`, "Bearer", `Bearer ${token}x`, "Bearer a b"]) {
      await expect(auth.authenticate(new Headers({ authorization: value }))).rejects.toMatchObject({
        code: Code.Unauthenticated,
      });
    }
  });

  it("refuses API keys when no verifier is configured", async () => {
    const { auth } = await setup();
    await expect(auth.authenticate(new Headers({ "x-api-key": "fk_x" }))).rejects.toMatchObject({
      code: Code.Unauthenticated,
    });
  });

  it("verifies an API key once per cache period, good or bad, sharing concurrent lookups", async () => {
    const verify = vi.fn(async (key: string) => (key === "fk_good" ? owner : undefined));
    const { auth, clock } = await setup(verify);
    const good = new Headers({ "x-api-key": "fk_good" });
    const results = await Promise.all([auth.authenticate(good), auth.authenticate(good)]);
    expect(results).toEqual([owner, owner]);
    await auth.authenticate(good);
    expect(verify).toHaveBeenCalledTimes(1);

    const bad = new Headers({ "x-api-key": "fk_bad" });
    await expect(auth.authenticate(bad)).rejects.toMatchObject({ code: Code.Unauthenticated });
    await expect(auth.authenticate(bad)).rejects.toMatchObject({ code: Code.Unauthenticated });
    expect(verify).toHaveBeenCalledTimes(2);

    clock.advance(30_000);
    await auth.authenticate(good);
    expect(verify).toHaveBeenCalledTimes(3);
  });

  it("does not cache a failed lookup", async () => {
    let down = true;
    const verify = vi.fn(async () => {
      if (down) throw new Error("identity unavailable");
      return owner;
    });
    const { auth } = await setup(verify);
    const h = new Headers({ "x-api-key": "fk_good" });
    await expect(auth.authenticate(h)).rejects.toThrow("identity unavailable");
    down = false;
    expect(await auth.authenticate(h)).toEqual(owner);
  });

  it("prefers the bearer token when both credentials are sent", async () => {
    const verify = vi.fn(async () => owner);
    const { auth, token } = await setup(verify);
    const p = await auth.authenticate(
      new Headers({ authorization: `Bearer ${token}`, "x-api-key": "fk_good" }),
    );
    expect(p).toMatchObject({ userId: "u-1" });
    expect(verify).not.toHaveBeenCalled();
  });
});
