import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { signAccessToken } from "./access-token.js";
import { createAuthenticator } from "./authenticator.js";
import { createJwtVerifier } from "./jwt-verifier.js";
import type { Principal } from "./principal.js";
import { jwksSource, testClock, testKey } from "./test/keys.js";
import type { UserAccess } from "./user-access.js";
import {
  checkUserAccess,
  createUserAccessCache,
  parseUserAccessHeader,
  USER_ACCESS_HEADER,
  userAccessHeader,
} from "./user-access.js";

async function setup() {
  const key = await testKey("k1");
  const clock = testClock();
  const state = new Map<string, UserAccess>();
  let lookups = 0;
  const access = createUserAccessCache({
    lookup: async (id) => {
      lookups++;
      return state.get(id) ?? { active: false, roles: [] };
    },
    ttlMs: 5000,
    clock: clock.now,
  });
  const jwt = createJwtVerifier({
    getJwks: jwksSource([key]).getJwks,
    issuer: "i",
    audience: "a",
    clock: clock.now,
  });
  const auth = checkUserAccess(createAuthenticator({ jwt, clock: clock.now }), access);
  const headersFor = async (principal: Principal) => {
    const { token } = await signAccessToken({
      privateKey: key.privateKey,
      kid: "k1",
      issuer: "i",
      audience: "a",
      principal,
      ttlSeconds: 900,
      now: clock.now(),
    });
    return new Headers({ authorization: `Bearer ${token}` });
  };
  return { auth, access, state, clock, headersFor, lookups: () => lookups };
}

async function refusal(p: Promise<unknown>): Promise<Code | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

const admin: Principal = { kind: "user", userId: "u-1", roles: ["user", "admin"], credential: "jwt" };

describe("checkUserAccess", () => {
  it("refuses a suspended user's unexpired token once the cached answer is older than the TTL", async () => {
    const t = await setup();
    t.state.set("u-1", { active: true, roles: ["user", "admin"] });
    const headers = await t.headersFor(admin);
    expect(await t.auth.authenticate(headers)).toMatchObject({ userId: "u-1" });
    t.state.set("u-1", { active: false, roles: ["user", "admin"] });
    // Within the TTL the remembered answer stands, with no lookup per request.
    await t.auth.authenticate(headers);
    expect(t.lookups()).toBe(1);
    t.clock.advance(5000);
    expect(await refusal(t.auth.authenticate(headers))).toBe(Code.Unauthenticated);
  });

  it("applies a change at once when told of it", async () => {
    const t = await setup();
    t.state.set("u-1", { active: true, roles: ["user", "admin"] });
    const headers = await t.headersFor(admin);
    await t.auth.authenticate(headers);
    t.state.set("u-1", { active: true, roles: ["user"] });
    t.access.changed("u-1");
    expect(await t.auth.authenticate(headers)).toMatchObject({ roles: ["user"] });
  });

  it("refuses tokens issued before the last revocation, also after reactivation; later ones pass", async () => {
    const t = await setup();
    const old = await t.headersFor(admin);
    t.clock.advance(1000);
    t.state.set("u-1", { active: true, roles: ["user"], tokensRevokedAtMs: t.clock.now().getTime() });
    expect(await refusal(t.auth.authenticate(old))).toBe(Code.Unauthenticated);
    t.clock.advance(1000);
    const fresh = await t.headersFor({ ...admin, roles: ["user"] });
    expect(await t.auth.authenticate(fresh)).toMatchObject({ userId: "u-1", roles: ["user"] });
  });

  it("never grants a role the token does not claim, and lets services through unchecked", async () => {
    const t = await setup();
    t.state.set("u-1", { active: true, roles: ["user", "admin"] });
    const user = await t.headersFor({ ...admin, roles: ["user"] });
    expect(await t.auth.authenticate(user)).toMatchObject({ roles: ["user"] });
    const svc = await t.headersFor({ kind: "service", service: "wallet" });
    expect(await t.auth.authenticate(svc)).toEqual({ kind: "service", service: "wallet" });
    expect(t.lookups()).toBe(1);
  });

  it("an answer in the last fifth of its TTL is given at once and looked up again behind it; none older than the TTL", async () => {
    const t = await setup();
    t.state.set("u-1", { active: true, roles: ["user", "admin"] });
    const headers = await t.headersFor(admin);
    await t.auth.authenticate(headers);
    t.state.set("u-1", { active: false, roles: ["user", "admin"] });
    t.clock.advance(3000);
    await t.auth.authenticate(headers);
    expect(t.lookups()).toBe(1);
    t.clock.advance(1000);
    // Given from memory, without waiting; the lookup behind it reads the suspension.
    expect(await t.auth.authenticate(headers)).toMatchObject({ userId: "u-1" });
    expect(t.lookups()).toBe(2);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await refusal(t.auth.authenticate(headers))).toBe(Code.Unauthenticated);
    expect(t.lookups()).toBe(2);
  });

  it("a refresh that reads the old state before a change is not kept; one that fails leaves the answer to its TTL", async () => {
    const t = await setup();
    let fail = false;
    let lookups = 0;
    const access = createUserAccessCache({
      lookup: async (id) => {
        lookups++;
        if (fail) throw new ConnectError("identity is away", Code.Unavailable);
        return t.state.get(id) ?? { active: false, roles: [] };
      },
      ttlMs: 5000,
      clock: t.clock.now,
    });
    t.state.set("u-1", { active: true, roles: ["user"] });
    await access.get("u-1");
    fail = true;
    t.clock.advance(4000);
    expect(await access.get("u-1")).toMatchObject({ active: true });
    await new Promise((resolve) => setImmediate(resolve));
    t.clock.advance(500);
    // The failed refresh left the first answer standing; one more refresh is tried.
    expect(await access.get("u-1")).toMatchObject({ active: true });
    t.clock.advance(500);
    // 5 s after the first lookup: never given any more; this one waits for identity.
    await expect(access.get("u-1")).rejects.toThrow("identity is away");
    fail = false;
    expect(lookups).toBe(4);
    // A refresh in flight when a change is announced does not bring back what it read.
    t.state.set("u-1", { active: true, roles: ["user"] });
    await access.get("u-1");
    t.clock.advance(4000);
    await access.get("u-1");
    access.changed("u-1");
    t.state.set("u-1", { active: false, roles: [] });
    await new Promise((resolve) => setImmediate(resolve));
    expect(await access.get("u-1")).toMatchObject({ active: false });
  });

  it("does not remember a failed lookup", async () => {
    let fail = true;
    const access = createUserAccessCache({
      lookup: async () => {
        if (fail) throw new ConnectError("identity is away", Code.Unavailable);
        return { active: true, roles: ["user"] };
      },
    });
    await expect(access.get("u-1")).rejects.toThrow("identity is away");
    fail = false;
    expect(await access.get("u-1")).toEqual({ active: true, roles: ["user"] });
  });
});

describe("a forwarder's answer about the caller (x-user-access)", () => {
  // What the gateway sends: the user's credential, its own service token as proof, and what identity told it.
  async function forwarded(t: Awaited<ReturnType<typeof setup>>, vouch: string, proofOf = "gateway") {
    const headers = await t.headersFor(admin);
    const proof = await t.headersFor({ kind: "service", service: proofOf });
    headers.set("x-forwarded-by", proof.get("authorization") ?? "");
    headers.set(USER_ACCESS_HEADER, vouch);
    return headers;
  }
  const vouch = (ageMs: number, roles = "user,admin") => `user=u-1&roles=${roles}&age=${ageMs}`;

  it("is taken instead of asking identity again, narrowing roles as identity's own answer would", async () => {
    const t = await setup();
    t.state.set("u-1", { active: true, roles: ["user", "admin"] });
    expect(await t.auth.authenticate(await forwarded(t, vouch(40, "user")))).toMatchObject({
      roles: ["user"],
    });
    expect(t.lookups()).toBe(0);
    // It stands for the TTL from when the forwarder looked it up, not from when it arrived.
    t.clock.advance(4960);
    await t.auth.authenticate(await t.headersFor(admin));
    expect(t.lookups()).toBe(1);
  });

  it("is not looked up again behind the caller in the last fifth of its TTL: the forwarder sends a fresher one", async () => {
    const t = await setup();
    t.state.set("u-1", { active: true, roles: ["user", "admin"] });
    // The gateway's own answer is 4.2 s old: it looks it up again itself, and forwards that with the next request.
    expect(await t.auth.authenticate(await forwarded(t, vouch(4200)))).toMatchObject({ userId: "u-1" });
    await new Promise((resolve) => setImmediate(resolve));
    expect(t.lookups()).toBe(0);
    t.clock.advance(300);
    expect(await t.auth.authenticate(await forwarded(t, vouch(20)))).toMatchObject({ userId: "u-1" });
    await new Promise((resolve) => setImmediate(resolve));
    expect(t.lookups()).toBe(0);
    // A call that is not forwarded, once the answer is past its TTL, waits for identity as before.
    t.clock.advance(5000);
    await t.auth.authenticate(await t.headersFor(admin));
    expect(t.lookups()).toBe(1);
  });

  it("is ignored without the gateway's proof, for another user, when malformed or older than the TTL", async () => {
    const t = await setup();
    t.state.set("u-1", { active: false, roles: [] });
    const refusedAfterLookup = async (headers: Headers) => {
      const before = t.lookups();
      expect(await refusal(t.auth.authenticate(headers))).toBe(Code.Unauthenticated);
      expect(t.lookups()).toBe(before + 1);
      t.access.forgetAll();
      t.clock.advance(1);
    };
    const noProof = await forwarded(t, vouch(0));
    noProof.delete("x-forwarded-by");
    await refusedAfterLookup(noProof);
    await refusedAfterLookup(await forwarded(t, vouch(0), "wallet"));
    const userAsProof = await forwarded(t, vouch(0));
    userAsProof.set("x-forwarded-by", userAsProof.get("authorization") ?? "");
    await refusedAfterLookup(userAsProof);
    await refusedAfterLookup(await forwarded(t, "user=u-2&roles=user&age=0"));
    await refusedAfterLookup(await forwarded(t, vouch(5000)));
    for (const bad of [
      "user=u-1&roles=root&age=0",
      "user=u-1&roles=user&age=-1",
      "user=u-1&roles=user",
      "garbage",
    ]) {
      await refusedAfterLookup(await forwarded(t, bad));
    }
  });

  it("does not bring back what was true before a change this service heard of", async () => {
    const t = await setup();
    t.state.set("u-1", { active: false, roles: [] });
    t.clock.advance(1000);
    t.access.changed("u-1");
    t.clock.advance(100);
    // Looked up 300 ms ago by the gateway, before the suspension's event reached this service: not taken.
    expect(await refusal(t.auth.authenticate(await forwarded(t, vouch(300))))).toBe(Code.Unauthenticated);
    t.access.forgetAll();
    t.clock.advance(100);
    expect(await refusal(t.auth.authenticate(await forwarded(t, vouch(150))))).toBe(Code.Unauthenticated);
    expect(t.lookups()).toBe(2);
    // One looked up after the change is.
    t.state.set("u-1", { active: true, roles: ["user"] });
    t.access.forgetAll();
    t.clock.advance(100);
    expect(await t.auth.authenticate(await forwarded(t, vouch(50, "user")))).toMatchObject({
      roles: ["user"],
    });
    expect(t.lookups()).toBe(2);
  });

  it("is not kept over a fresher answer already held", async () => {
    const t = await setup();
    t.state.set("u-1", { active: true, roles: ["user"] });
    await t.access.get("u-1");
    t.clock.advance(1000);
    t.access.heard("u-1", { active: true, roles: ["user", "admin"] }, 2000);
    expect(t.access.held("u-1")).toEqual({ access: { active: true, roles: ["user"] }, ageMs: 1000 });
    t.access.heard("u-1", { active: true, roles: ["user", "admin"] }, 10);
    expect(t.access.held("u-1")).toEqual({ access: { active: true, roles: ["user", "admin"] }, ageMs: 10 });
  });

  it("is written only for an active user, and read back as written", () => {
    const held = {
      access: { active: true, roles: ["user" as const], tokensRevokedAtMs: 1_700_000_000_000 },
      ageMs: 12,
    };
    const header = userAccessHeader("u-1", held);
    expect(parseUserAccessHeader(header ?? null)).toEqual({ userId: "u-1", ...held });
    expect(userAccessHeader("u-1", { access: { active: false, roles: [] }, ageMs: 0 })).toBeUndefined();
  });
});
