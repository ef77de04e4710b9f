import { describe, expect, it } from "vitest";
import { createTestTokens, testAdmin, testService, testUser, trustingAuthenticator } from "./tokens.js";

const bearer = (token: string) => new Headers({ authorization: `Bearer ${token}` });

describe("test tokens", () => {
  it("mint user, admin and service tokens that the key's authenticator reads back as those callers", async () => {
    const tokens = await createTestTokens();
    for (const principal of [testUser("ana"), testAdmin("root"), testService("wallet")]) {
      expect(await tokens.authenticator.authenticate(bearer(await tokens.token(principal)))).toEqual(
        principal,
      );
    }
    expect(await tokens.authenticator.authenticate(bearer(await tokens.token()))).toEqual(testUser("user-1"));
  });

  it("are refused by an authenticator of another key, and accepted by one given the public key", async () => {
    const tokens = await createTestTokens({ kid: "k1" });
    const other = await createTestTokens({ kid: "k1" });
    const token = await tokens.token(testService("ledger"));
    await expect(other.authenticator.authenticate(bearer(token))).rejects.toMatchObject({
      message: expect.stringContaining("bad signature"),
    });
    const child = trustingAuthenticator(JSON.parse(JSON.stringify(tokens.publicJwk)));
    expect(await child.authenticate(bearer(token))).toEqual(testService("ledger"));
  });

  it("expire after their lifetime", async () => {
    const tokens = await createTestTokens();
    const stale = await tokens.token(testUser("ana"), {
      ttlSeconds: 60,
      now: new Date(Date.now() - 3_600_000),
    });
    await expect(tokens.authenticator.authenticate(bearer(stale))).rejects.toMatchObject({
      message: expect.stringContaining("expired"),
    });
  });
});
