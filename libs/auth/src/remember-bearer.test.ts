import { describe, expect, test } from "vitest";
import { signAccessToken } from "./access-token.js";
import type { Authenticator } from "./authenticator.js";
import type { Principal } from "./principal.js";
import { rememberBearer } from "./remember-bearer.js";
import { testKey } from "./test/keys.js";

const key = await testKey("remember-test");
/** A token for `principal` that expires an hour from now. */
const tokenFor = async (principal: Principal) =>
  (
    await signAccessToken({
      privateKey: key.privateKey,
      kid: key.kid,
      issuer: "fintech-identity",
      audience: "fintech",
      principal,
      ttlSeconds: 3600,
      now: new Date(),
    })
  ).token;

const wallet: Principal = { kind: "service", service: "wallet" };

function counting(answer: () => Promise<Principal | undefined>): Authenticator & { calls: number } {
  const a = {
    calls: 0,
    async authenticate() {
      a.calls++;
      return answer();
    },
  };
  return a;
}

const bearer = (token: string) => new Headers({ authorization: `Bearer ${token}` });

describe("rememberBearer", () => {
  test("verifies a token once per ttl and never past its exp", async () => {
    let now = Date.now();
    const token = await tokenFor(wallet); // exp: an hour from now
    const inner = counting(async () => wallet);
    const auth = rememberBearer(inner, { ttlMs: 1000, clock: () => new Date(now) });
    expect(await auth.authenticate(bearer(token))).toEqual(wallet);
    expect(await auth.authenticate(bearer(token))).toEqual(wallet);
    expect(inner.calls).toBe(1);
    now += 1000;
    await auth.authenticate(bearer(token));
    expect(inner.calls).toBe(2);

    // A long ttl still stops at the token's own exp (an hour after it was signed).
    const again = counting(async () => wallet);
    const long = rememberBearer(again, { ttlMs: 10 * 3_600_000, clock: () => new Date(now) });
    await long.authenticate(bearer(token));
    await long.authenticate(bearer(token));
    expect(again.calls).toBe(1);
    now += 3_600_000;
    await long.authenticate(bearer(token));
    expect(again.calls).toBe(2);
  });

  test("never remembers a refusal, an anonymous call or an API key", async () => {
    const token = await tokenFor(wallet);
    const failing = counting(async () => {
      throw new Error("bad signature");
    });
    const guarded = rememberBearer(failing);
    await expect(guarded.authenticate(bearer(token))).rejects.toThrow(/bad signature/);
    await expect(guarded.authenticate(bearer(token))).rejects.toThrow(/bad signature/);
    expect(failing.calls).toBe(2);

    const inner = counting(async () => undefined);
    const auth = rememberBearer(inner);
    await auth.authenticate(new Headers());
    await auth.authenticate(new Headers({ "x-api-key": "k" }));
    await auth.authenticate(new Headers({ "x-api-key": "k" }));
    expect(inner.calls).toBe(3);
  });
});
