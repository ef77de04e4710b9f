import { waitFor } from "@fintech/testing";
import { describe, expect } from "vitest";
import { balanceOf, defaultWallet, fund, platformTest } from "./test/harness.js";

// The default currency a user picks (PATCH /users/me) is the one the wallet answers in: the balance's
// currency and the default wallet follow it, through identity's profile_changed event.
const test = platformTest();

interface WalletRow {
  id: string;
  currency: string;
  is_default: boolean;
}

describe("changing default_currency", () => {
  test("the balance answers in the new currency and its wallet, opened for it, becomes the default", async ({
    platform,
  }) => {
    const user = await platform.signup();
    const myr = await defaultWallet(platform, user);
    expect(myr.currency).toBe("MYR");
    await fund(platform, user, myr.id, "35.00");

    const patched = await platform.api("PATCH", "/api/v1/users/me", {
      token: user.token,
      json: { default_currency: "SGD" },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.default_currency).toBe("SGD");

    // 35.00 MYR at 3.50 MYR per SGD.
    const balance = await waitFor(async () => {
      const res = await platform.api<{ currency: string; total: string }>("GET", "/api/v1/users/me/balance", {
        token: user.token,
      });
      return res.body.currency === "SGD" && res.body;
    });
    expect(balance.total).toBe("10.00");
    const wallets = await waitFor(async () => {
      const res = await platform.api<{ data: WalletRow[] }>("GET", "/api/v1/wallets", { token: user.token });
      return res.body.data.some((w) => w.currency === "SGD" && w.is_default) && res.body.data;
    });
    expect(wallets.map((w) => [w.currency, w.is_default]).sort()).toEqual([
      ["MYR", false],
      ["SGD", true],
    ]);
    // The money stays where it was.
    expect((await balanceOf(platform, user, myr.id)).available).toBe("35.00");

    // Back to MYR: the existing wallet is the default again, no other is opened.
    await platform.api("PATCH", "/api/v1/users/me", { token: user.token, json: { default_currency: "MYR" } });
    const back = await waitFor(async () => {
      const res = await platform.api<{ data: WalletRow[] }>("GET", "/api/v1/wallets", { token: user.token });
      return res.body.data.some((w) => w.currency === "MYR" && w.is_default) && res.body.data;
    });
    expect(back.map((w) => [w.currency, w.is_default]).sort()).toEqual([
      ["MYR", true],
      ["SGD", false],
    ]);
  });
});
