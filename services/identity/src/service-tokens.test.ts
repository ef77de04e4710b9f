import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import {
  createAuthenticator,
  createJwtVerifier,
  createServiceCredentials,
  identityApiKeyVerifier,
  identityJwks,
  identityTokenIssuer,
} from "@fintech/auth";
import { IdentityService } from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import { decodeJwt } from "jose";
import { describe, expect } from "vitest";
import {
  bearer,
  expectRefusal,
  GATEWAY_SECRET,
  identityTest,
  tamper,
  WALLET_SECRET,
} from "./test/harness.js";

const test = identityTest();

describe("service credentials", () => {
  test("a configured service gets a short-lived service token", async ({ identity }) => {
    const res = await identity.client.issueServiceToken({ clientId: "wallet", clientSecret: WALLET_SECRET });
    expect(res).toMatchObject({ tokenType: "Bearer", expiresIn: 300 });
    expect(decodeJwt(res.accessToken)).toMatchObject({ sub: "service:wallet", svc: "wallet" });
  });

  test("wrong secrets and unknown services are UNAUTHENTICATED", async ({ identity }) => {
    for (const [clientId, clientSecret] of [
      ["wallet", GATEWAY_SECRET],
      ["wallet", `${WALLET_SECRET}x`],
      ["ledger", WALLET_SECRET],
    ] as const) {
      await expectRefusal(
        identity.client.issueServiceToken({ clientId, clientSecret }),
        Code.Unauthenticated,
        "UNAUTHENTICATED",
      );
    }
  });

  test("a service may look users up; it is not a user: user and admin RPCs are FORBIDDEN", async ({
    identity,
  }) => {
    const u = await identity.signUp("looked-up");
    const svc = bearer(await identity.serviceToken());
    expect((await identity.client.getUser({ id: u.id }, svc)).user?.email).toBe(u.email);
    await expectRefusal(identity.client.deleteUser({ id: u.id }, svc), Code.PermissionDenied, "FORBIDDEN");
    await expectRefusal(
      identity.client.getMe({}, bearer(await identity.serviceToken())),
      Code.PermissionDenied,
      "FORBIDDEN",
    );
  });

  test("the libs/auth helpers wire a service up against identity end to end", async ({ identity }) => {
    // What the gateway (or any service) does at start-up.
    const plain = createClient(IdentityService, createGrpcTransport({ baseUrl: identity.url }));
    const credentials = createServiceCredentials({
      issue: identityTokenIssuer(plain, { clientId: "gateway", clientSecret: GATEWAY_SECRET }),
    });
    const asGateway = createClient(
      IdentityService,
      createGrpcTransport({ baseUrl: identity.url, interceptors: [credentials.interceptor] }),
    );
    const authenticator = createAuthenticator({
      jwt: createJwtVerifier({
        getJwks: identityJwks(plain),
        issuer: "fintech-identity",
        audience: "fintech",
        clock: () => identity.clock.now(),
      }),
      verifyApiKey: identityApiKeyVerifier(asGateway),
    });

    const u = await identity.signUp("wired");
    const { key } = await identity.client.createApiKey({ name: "k" }, bearer(u.accessToken));
    expect(
      await authenticator.authenticate(new Headers({ authorization: `Bearer ${u.accessToken}` })),
    ).toEqual({
      kind: "user",
      userId: u.id,
      roles: ["user"],
      credential: "jwt",
    });
    expect(await authenticator.authenticate(new Headers({ "x-api-key": key }))).toEqual({
      kind: "user",
      userId: u.id,
      roles: ["user"],
      credential: "api_key",
    });
    await expect(authenticator.authenticate(new Headers({ "x-api-key": tamper(key) }))).rejects.toMatchObject(
      { code: Code.Unauthenticated },
    );
  });
});
