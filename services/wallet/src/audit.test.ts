import { fromBinary, toJsonString } from "@bufbuild/protobuf";
import type { AuditEntry } from "@fintech/proto/fintech/audit/v1/audit_pb.js";
import { AuditEntrySchema } from "@fintech/proto/fintech/audit/v1/audit_pb.js";
import { describe, expect } from "vitest";
import type { Platform, Transaction } from "./test/harness.js";
import { ADMIN_PASSWORD, defaultWallet, fund, PASSWORD, platformTest } from "./test/harness.js";

// Every money movement a caller asks for is audited in the statement that records it: who (the principal), the
// request (x-request-id), the client's address as the gateway saw it, and the transaction.
const test = platformTest();

async function auditOf(p: Platform, transactionId: string): Promise<AuditEntry[]> {
  return (await p.walletEvents())
    .filter((e) => e.type === "wallet.audit.recorded")
    .map((e) => fromBinary(AuditEntrySchema, e.data))
    .filter((e) => e.subjectId === transactionId);
}

describe("audit entries", () => {
  test("a purchase through the gateway is audited once with its payer, request, address and amount", async ({
    platform: p,
  }) => {
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    await fund(p, ana, w.id, "80.00");
    const pay = () =>
      p.api<Transaction>("POST", "/api/v1/transactions", {
        token: ana.token,
        json: {
          amount: "12.30",
          currency: "MYR",
          merchant_name: "Kopi",
          merchant_category: "food_beverage",
          transaction_type: "purchase",
        },
        headers: { "idempotency-key": "audit-pay-1", "x-request-id": "audit-req-1" },
      });
    const first = await pay();
    expect(first.status).toBe(201);
    // A retry under the same key answers the same transaction and records nothing new.
    expect((await pay()).body.transaction_id).toBe(first.body.transaction_id);

    const entries = await auditOf(p, first.body.transaction_id);
    expect(entries).toHaveLength(1);
    const [entry] = entries;
    expect(entry).toMatchObject({
      service: "wallet",
      action: "wallet.create_transaction",
      requestId: "audit-req-1",
      subjectType: "transaction",
      actor: { kind: "user", id: ana.id, roles: ["user"], credential: "jwt" },
      after: { type: "purchase", status: "pending", amount: "12.30", currency: "MYR", wallet_id: w.id },
    });
    expect(entry?.clientIp).toMatch(/^(::ffff:)?127\.0\.0\.1$|^::1$/);
    expect(entry?.before).toBeUndefined();
  });

  test("an admin's reversal is audited with the transaction before and after, and no secret anywhere", async ({
    platform: p,
  }) => {
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    const topUp = await fund(p, ana, w.id, "50.00");
    const admin = await p.admin();
    const reversed = await p.api<Transaction>(
      "POST",
      `/api/v1/transactions/${topUp.transaction_id}/reverse`,
      {
        token: admin.token,
        json: { reason: "card chargeback" },
        headers: { "x-request-id": "audit-reverse-1" },
      },
    );
    expect(reversed.status).toBe(200);

    const entries = await auditOf(p, topUp.transaction_id);
    expect(entries.map((e) => [e.action, e.actor?.id, e.requestId])).toEqual([
      ["wallet.fund_wallet", ana.id, expect.any(String)],
      ["wallet.reverse_transaction", admin.id, "audit-reverse-1"],
    ]);
    expect(entries[1]).toMatchObject({
      actor: { roles: ["user", "admin"] },
      before: { status: "completed", amount: "50.00" },
      after: { status: "reversed", reason: "card chargeback" },
    });
    const text = entries.map((e) => toJsonString(AuditEntrySchema, e)).join("\n");
    for (const secret of [PASSWORD, ADMIN_PASSWORD, ana.token, admin.token])
      expect(text).not.toContain(secret);
  });
});
