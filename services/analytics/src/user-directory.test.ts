import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { IdentityService } from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import { describe, expect, it } from "vitest";
import { identityUserDirectory } from "./user-directory.js";

const KNOWN = "0b7c4c5e-8f7a-4a53-9d0e-3f1f0c7f2a11";

/** Identity's GetUser as it answers: the user, NOT_FOUND, INVALID_ARGUMENT for a malformed id, or down. */
function identityWith(answer: (id: string) => void) {
  return createClient(
    IdentityService,
    createRouterTransport(({ service }) =>
      service(IdentityService, {
        getUser(req) {
          answer(req.id);
          return {
            user: { id: req.id, email: "known@example.com", timezone: "Asia/Tokyo", defaultCurrency: "SGD" },
          };
        },
      }),
    ),
  );
}

describe("identityUserDirectory", () => {
  it("knows a user identity has, and not one it answers NOT_FOUND or malformed for", async () => {
    const users = identityUserDirectory(
      identityWith((id) => {
        if (!/^[0-9a-f-]{36}$/.test(id)) throw new ConnectError("id must be a UUID", Code.InvalidArgument);
        if (id !== KNOWN) throw new ConnectError("user not found", Code.NotFound);
      }),
    );
    expect(await users.exists(KNOWN)).toBe(true);
    expect(await users.exists("5e0d2a8c-0000-4000-8000-000000000000")).toBe(false);
    expect(await users.exists("u-not-a-uuid")).toBe(false);
  });

  it("gives a user's time zone and default currency, asking identity once for a while", async () => {
    let asked = 0;
    const users = identityUserDirectory(
      identityWith((id) => {
        asked++;
        if (id !== KNOWN) throw new ConnectError("user not found", Code.NotFound);
      }),
    );
    expect(await users.profile?.(KNOWN)).toEqual({ timezone: "Asia/Tokyo", defaultCurrency: "SGD" });
    expect(await users.profile?.(KNOWN)).toEqual({ timezone: "Asia/Tokyo", defaultCurrency: "SGD" });
    expect(asked).toBe(1);
    expect(await users.profile?.("5e0d2a8c-0000-4000-8000-000000000000")).toBeUndefined();
  });

  it("fails, rather than guessing, while identity cannot answer", async () => {
    const users = identityUserDirectory(
      identityWith(() => {
        throw new ConnectError("connection refused", Code.Unavailable);
      }),
    );
    await expect(users.exists(KNOWN)).rejects.toMatchObject({ code: Code.Unavailable });
  });
});
