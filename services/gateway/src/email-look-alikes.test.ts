import { describe, expect } from "vitest";
import type { ErrorBody } from "./test/harness.js";
import { gatewayTest } from "./test/harness.js";

// Registration through the public API with look-alikes of an address that already has an account.
const test = gatewayTest({ RATE_LIMIT_RPS: "10000", RATE_LIMIT_BURST: "10000" }, { identity: true });

const PASSWORD = "plum-Orchard-77";

describe("look-alike e-mail addresses through the gateway", () => {
  test("a trailing dot or fullwidth letters do not make a new account: 409 EMAIL_TAKEN, and they log in to the original", async ({
    gw,
  }) => {
    const reg = await gw.call("/api/v1/auth/register", {
      method: "POST",
      json: { email: "victim@example.com", password: PASSWORD, full_name: "Victim" },
    });
    expect(reg.status).toBe(201);
    const { id } = (await reg.json()) as { id: string };

    for (const email of ["victim@example.com.", "ｖｉｃｔｉｍ@example.com", "Victim@Example.Com."]) {
      const copy = await gw.call("/api/v1/auth/register", {
        method: "POST",
        json: { email, password: PASSWORD, full_name: "Impostor" },
      });
      expect(copy.status).toBe(409);
      expect((await copy.json()) as ErrorBody).toMatchObject({ error: "EMAIL_TAKEN" });

      const login = await gw.call("/api/v1/auth/login", {
        method: "POST",
        json: { email, password: PASSWORD },
      });
      expect(login.status).toBe(200);
      const { access_token } = (await login.json()) as { access_token: string };
      const me = await gw.call("/api/v1/users/me", { token: access_token });
      expect(((await me.json()) as { id: string; email: string }).id).toBe(id);
    }
  });
});
