import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { errorInfoOf } from "@fintech/platform";
import { IdentityService, Role } from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import { describe, expect, it } from "vitest";
import { signAccessToken } from "./access-token.js";
import { createAuthInterceptor } from "./auth-interceptor.js";
import { createAuthenticator } from "./authenticator.js";
import { getClientIp } from "./client-ip.js";
import { createJwtVerifier } from "./jwt-verifier.js";
import type { Principal } from "./principal.js";
import { getPrincipal, requireAdmin, requireService, requireUser } from "./principal.js";
import { jwksSource, testKey } from "./test/keys.js";

async function setup() {
  const key = await testKey("k1");
  const jwt = createJwtVerifier({ getJwks: jwksSource([key]).getJwks, issuer: "i", audience: "a" });
  const auth = createAuthInterceptor({
    authenticator: createAuthenticator({ jwt }),
    publicMethods: ["fintech.identity.v1.IdentityService/Login"],
  });
  const transport = createRouterTransport(
    (router) =>
      router.service(IdentityService, {
        login: (_req, ctx) => ({
          tokenType: getPrincipal(ctx)?.kind ?? "anonymous",
          refreshToken: getClientIp(ctx),
        }),
        getMe: (_req, ctx) => ({ user: { id: requireUser(ctx).userId } }),
        getUser: (req, ctx) => {
          requireAdmin(ctx);
          return { user: { id: req.id } };
        },
        verifyApiKey: (_req, ctx) => ({
          userId: requireService(ctx, ["gateway"]).service,
          roles: [Role.USER],
        }),
      }),
    { router: { interceptors: [auth] } },
  );
  const client = createClient(IdentityService, transport);
  const tokenFor = async (principal: Principal) =>
    (
      await signAccessToken({
        privateKey: key.privateKey,
        kid: "k1",
        issuer: "i",
        audience: "a",
        principal,
        ttlSeconds: 60,
        now: new Date(),
      })
    ).token;
  const bearer = async (principal: Principal) => ({
    headers: { authorization: `Bearer ${await tokenFor(principal)}` },
  });
  return { client, bearer, tokenFor };
}

const user: Principal = { kind: "user", userId: "u-1", roles: ["user"], credential: "jwt" };
const admin: Principal = { kind: "user", userId: "u-2", roles: ["user", "admin"], credential: "jwt" };

async function codeOf(p: Promise<unknown>): Promise<[Code, string | undefined]> {
  try {
    await p;
  } catch (err) {
    const ce = ConnectError.from(err);
    return [ce.code, errorInfoOf(ce)?.reason];
  }
  throw new Error("expected a refusal");
}

describe("createAuthInterceptor", () => {
  it("lets public methods through anonymously, even with a bad credential", async () => {
    const { client } = await setup();
    expect((await client.login({})).tokenType).toBe("anonymous");
    expect((await client.login({}, { headers: { authorization: "Bearer nonsense" } })).tokenType).toBe(
      "anonymous",
    );
  });

  it("puts the principal into the context of public methods when the credential is good", async () => {
    const { client, bearer } = await setup();
    expect((await client.login({}, await bearer(user))).tokenType).toBe("user");
  });

  it("refuses non-public methods without or with bad credentials", async () => {
    const { client } = await setup();
    expect(await codeOf(client.getMe({}))).toEqual([Code.Unauthenticated, "UNAUTHENTICATED"]);
    expect(await codeOf(client.getMe({}, { headers: { authorization: "Bearer x.y.z" } }))).toEqual([
      Code.Unauthenticated,
      "UNAUTHENTICATED",
    ]);
  });

  it("gives handlers the user, and refuses users on admin and service methods", async () => {
    const { client, bearer } = await setup();
    expect((await client.getMe({}, await bearer(user))).user?.id).toBe("u-1");
    expect(await codeOf(client.getUser({ id: "x" }, await bearer(user)))).toEqual([
      Code.PermissionDenied,
      "FORBIDDEN",
    ]);
    expect((await client.getUser({ id: "x" }, await bearer(admin))).user?.id).toBe("x");
    expect(await codeOf(client.verifyApiKey({}, await bearer(admin)))).toEqual([
      Code.PermissionDenied,
      "FORBIDDEN",
    ]);
  });

  it("lets only the allowed services call a service method", async () => {
    const { client, bearer } = await setup();
    expect(
      (await client.verifyApiKey({}, await bearer({ kind: "service", service: "gateway" }))).userId,
    ).toBe("gateway");
    expect(await codeOf(client.verifyApiKey({}, await bearer({ kind: "service", service: "fx" })))).toEqual([
      Code.PermissionDenied,
      "FORBIDDEN",
    ]);
    expect(await codeOf(client.getMe({}, await bearer({ kind: "service", service: "gateway" })))).toEqual([
      Code.PermissionDenied,
      "FORBIDDEN",
    ]);
  });

  it("believes x-forwarded-for only beside a valid service token of the gateway in x-forwarded-by", async () => {
    const { client, tokenFor } = await setup();
    const addressSeen = async (headers: Record<string, string>) =>
      (await client.login({}, { headers: { "x-forwarded-for": "203.0.113.7", ...headers } })).refreshToken;
    const gateway = await tokenFor({ kind: "service", service: "gateway" });
    expect(await addressSeen({ "x-forwarded-by": `Bearer ${gateway}` })).toBe("203.0.113.7");
    expect(await addressSeen({})).toBe("");
    expect(
      await addressSeen({ "x-forwarded-by": `Bearer ${await tokenFor({ kind: "service", service: "fx" })}` }),
    ).toBe("");
    expect(await addressSeen({ "x-forwarded-by": `Bearer ${await tokenFor(admin)}` })).toBe("");
    expect(await addressSeen({ "x-forwarded-by": "Bearer forged.token.here" })).toBe("");
    // One address, nothing else: a list or a name is not recorded.
    expect(
      (
        await client.login(
          {},
          { headers: { "x-forwarded-for": "203.0.113.7, 10.0.0.1", "x-forwarded-by": `Bearer ${gateway}` } },
        )
      ).refreshToken,
    ).toBe("");
  });
});
