import { waitFor } from "@fintech/testing";
import { describe, expect } from "vitest";
import type { ErrorBody, Platform, TestUser, Transaction } from "./test/harness.js";
import { balanceOf, defaultWallet, fund, platformTest } from "./test/harness.js";

// A deleted user's status as every service shows it, and the admin payout that is the only way out for the
// money left in a deleted or closed user's wallets: through the gateway, the ledger and the transaction list.
const test = platformTest();

const payOut = (p: Platform, admin: TestUser, walletId: string, json: unknown, key?: string) =>
  p.api<Transaction & ErrorBody & { reason: string; source: string }>(
    "POST",
    `/api/v1/wallets/${walletId}/payout`,
    { token: admin.token, json, ...(key !== undefined && { headers: { "idempotency-key": key } }) },
  );

describe("deleted users and admin payouts", () => {
  test("a deleted user is deleted to admins, and their money is paid out by an admin, once per key", async ({
    platform: p,
  }) => {
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    await fund(p, ana, w.id, "120.00");
    const admin = await p.admin();

    const early = await payOut(p, admin, w.id, { destination: "wire", reason: "too early" });
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({ error: "CONFLICT", details: { status: "active" } });
    const self = await payOut(p, ana, w.id, { destination: "wire", reason: "mine" });
    expect(self.status).toBe(403);

    // Deleting is DELETE /users/{id}; the status route offers only the statuses it sets.
    const viaStatus = await p.api<ErrorBody>("PATCH", `/api/v1/users/${ana.id}/status`, {
      token: admin.token,
      json: { status: "deleted" },
    });
    expect(viaStatus.status).toBe(400);
    expect(viaStatus.body.message).toBe("status must be one of: active, suspended, closed");
    expect((await p.api("DELETE", `/api/v1/users/${ana.id}`, { token: admin.token })).status).toBe(204);
    const shown = await p.api<{ status: string; deleted_at: string }>("GET", `/api/v1/users/${ana.id}`, {
      token: admin.token,
    });
    expect(shown.body.status).toBe("deleted");
    expect(shown.body.deleted_at).toBeTruthy();
    // The wallet learns it from identity's event and closes the wallet.
    await waitFor(async () => {
      const res = await p.api<{ status: string }>("GET", `/api/v1/wallets/${w.id}`, { token: admin.token });
      return res.body.status === "closed";
    });

    for (const [json, field] of [
      [{ reason: "closing" }, "destination"],
      [{ destination: "wire" }, "reason"],
      [{ destination: "wire", reason: "closing", amount: "-1" }, "amount"],
    ] as const) {
      const bad = await payOut(p, admin, w.id, json);
      expect(bad.status, field).toBe(400);
      expect(bad.body.details.field).toBe(field);
    }

    const part = await payOut(
      p,
      admin,
      w.id,
      { amount: "20.00", destination: "wire", reason: "closed" },
      "po-1",
    );
    expect(part.status).toBe(201);
    expect(part.body).toMatchObject({
      transaction_type: "withdrawal",
      status: "completed",
      user_id: ana.id,
      wallet_id: w.id,
      amount: "20.00",
      source: "wire",
      reason: "closed",
    });
    const again = await payOut(
      p,
      admin,
      w.id,
      { amount: "20.00", destination: "wire", reason: "closed" },
      "po-1",
    );
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body.transaction_id).toBe(part.body.transaction_id);
    expect((await balanceOf(p, admin, w.id)).available).toBe("100.00");

    const rest = await payOut(p, admin, w.id, { destination: "wire", reason: "close-out" }, "po-2");
    expect(rest.status).toBe(201);
    expect(rest.body.amount).toBe("100.00");
    expect((await balanceOf(p, admin, w.id)).available).toBe("0.00");
    const empty = await payOut(p, admin, w.id, { destination: "wire", reason: "nothing left" });
    expect(empty.status).toBe(409);
    expect(empty.body.details.field).toBe("amount");

    // Audited in the user's transaction list.
    const list = await p.api<{ data: Array<Transaction & { reason: string }> }>(
      "GET",
      `/api/v1/transactions?user_id=${ana.id}&transaction_type=withdrawal`,
      { token: admin.token },
    );
    expect(list.body.data.map((t) => [t.transaction_id, t.reason])).toEqual([
      [rest.body.transaction_id, "close-out"],
      [part.body.transaction_id, "closed"],
    ]);
  });

  test("the books balance: wallets and system accounts sum to zero per currency", async ({ platform: p }) => {
    await p.expectBooksBalance();
  });
});
