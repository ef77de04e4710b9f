import { createClient, createRouterTransport } from "@connectrpc/connect";
import { IdentityService } from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import { describe, expect, it, vi } from "vitest";
import { forwardCredentials } from "./forward-credentials.js";
import { createServiceCredentials } from "./service-credentials.js";
import { testClock } from "./test/keys.js";

describe("createServiceCredentials", () => {
  it("attaches the token, renews it before expiry with one request, keeps the old one while renewal fails", async () => {
    const clock = testClock();
    let n = 0;
    let fail = false;
    const issue = vi.fn(async () => {
      if (fail) throw new Error("identity down");
      n++;
      return { token: `t${n}`, expiresAt: new Date(clock.now().getTime() + 300_000) };
    });
    const creds = createServiceCredentials({ issue, clock: clock.now });
    const seen: string[] = [];
    const transport = createRouterTransport(
      (router) =>
        router.service(IdentityService, {
          getMe: (_req, ctx) => {
            seen.push(ctx.requestHeader.get("authorization") ?? "");
            return {};
          },
        }),
      { transport: { interceptors: [creds.interceptor] } },
    );
    const client = createClient(IdentityService, transport);
    await Promise.all([client.getMe({}), client.getMe({}), client.getMe({})]);
    expect(seen).toEqual(["Bearer t1", "Bearer t1", "Bearer t1"]);
    expect(issue).toHaveBeenCalledTimes(1);

    clock.advance(241_000); // within 60 s of expiry
    await Promise.all([client.getMe({}), client.getMe({})]);
    expect(issue).toHaveBeenCalledTimes(2);
    expect(seen.at(-1)).toBe("Bearer t2");

    fail = true;
    clock.advance(241_000);
    expect(await creds.token()).toBe("t2");
    clock.advance(60_000);
    await expect(creds.token()).rejects.toThrow("identity down");
  });
});

describe("forwardCredentials", () => {
  it("copies the credential and request headers that are present", () => {
    const h = new Headers({
      Authorization: "Bearer abc",
      "X-Request-Id": "r-1",
      "Idempotency-Key": "k",
      "content-type": "application/json",
    });
    expect(forwardCredentials(h)).toEqual({
      authorization: "Bearer abc",
      "x-request-id": "r-1",
      "idempotency-key": "k",
    });
    expect(forwardCredentials(new Headers({ "x-api-key": "fk_1" }))).toEqual({ "x-api-key": "fk_1" });
  });
});
