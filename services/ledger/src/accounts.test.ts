import { randomUUID } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { AccountKind } from "@fintech/proto/fintech/ledger/v1/ledger_pb.js";
import { describe, expect } from "vitest";
import { expectRefusal, fund, ledgerTest, move, openAccount, settlement } from "./test/harness.js";

const test = ledgerTest();

describe("accounts", () => {
  test("opens an account with zero balances and reads it back", async ({ ledger }) => {
    const { account, replayed } = await ledger.client.createAccount({
      currency: "myr",
      code: 7,
      ownerRef: "wallet:w1",
      flags: { debitsMustNotExceedCredits: true },
    });
    expect(replayed).toBe(false);
    expect(account).toMatchObject({
      currency: "MYR",
      kind: AccountKind.GENERAL,
      code: 7,
      ownerRef: "wallet:w1",
      flags: { debitsMustNotExceedCredits: true, creditsMustNotExceedDebits: false, closed: false },
      balance: {
        debitsPending: "0.00",
        debitsPosted: "0.00",
        creditsPending: "0.00",
        creditsPosted: "0.00",
        available: "0.00",
      },
    });
    const got = await ledger.client.getAccount({ accountId: account?.id.toUpperCase() ?? "" });
    expect(got.account?.id).toBe(account?.id);
  });

  test("a caller-chosen id is idempotent; other fields under it are refused", async ({ ledger }) => {
    const id = randomUUID();
    const first = await ledger.client.createAccount({ id, currency: "SGD", ownerRef: "m:1" });
    const again = await ledger.client.createAccount({ id, currency: "SGD", ownerRef: "m:1" });
    expect(again).toMatchObject({ replayed: true, account: { id, createdAt: first.account?.createdAt } });
    await expectRefusal(
      ledger.client.createAccount({ id, currency: "USD", ownerRef: "m:1" }),
      Code.AlreadyExists,
      "EXISTS_WITH_DIFFERENT_FIELDS",
      { account_id: id, field: "currency" },
    );
  });

  test("a system account is opened once per kind and currency, however many ask at once", async ({
    ledger,
  }) => {
    const all = await Promise.all(
      Array.from({ length: 8 }, () =>
        ledger.client.getSystemAccount({ kind: AccountKind.MERCHANT_CLEARING, currency: "USD" }),
      ),
    );
    expect(new Set(all.map((r) => r.account?.id)).size).toBe(1);
    expect(all[0]?.account).toMatchObject({ kind: AccountKind.MERCHANT_CLEARING, currency: "USD" });
    const fees = await ledger.client.getSystemAccount({ kind: AccountKind.FEES, currency: "USD" });
    expect(fees.account?.id).not.toBe(all[0]?.account?.id);
    await expectRefusal(
      ledger.client.getSystemAccount({ kind: AccountKind.GENERAL, currency: "USD" }),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
      { field: "kind" },
    );
  });

  test("a closed account takes no new transfer but its pending transfers can still be voided", async ({
    ledger,
  }) => {
    const wallet = await openAccount(ledger.client);
    await fund(ledger.client, wallet, "10.00");
    const world = await settlement(ledger.client);
    const hold = move(wallet, world, "4.00", { flags: { pending: true } });
    await ledger.client.createTransfer({ transfer: hold });
    const { account } = await ledger.client.closeAccount({ accountId: wallet.id });
    expect(account?.flags?.closed).toBe(true);

    await expectRefusal(
      ledger.client.createTransfer({ transfer: move(world, wallet, "1.00") }),
      Code.FailedPrecondition,
      "ACCOUNT_CLOSED",
      { account_id: wallet.id },
    );
    await expectRefusal(
      ledger.client.createTransfer({
        transfer: { id: randomUUID(), pendingId: hold.id ?? "", flags: { postPending: true } },
      }),
      Code.FailedPrecondition,
      "ACCOUNT_CLOSED",
    );
    const voided = await ledger.client.createTransfer({
      transfer: { id: randomUUID(), pendingId: hold.id ?? "", flags: { voidPending: true } },
    });
    expect(voided.transfer?.amount).toBe("4.00");
    const after = await ledger.client.getAccount({ accountId: wallet.id });
    expect(after.account?.balance).toMatchObject({ debitsPending: "0.00", available: "10.00" });
  });

  test("an unknown account is NotFound", async ({ ledger }) => {
    const id = randomUUID();
    await expectRefusal(ledger.client.getAccount({ accountId: id }), Code.NotFound, "ACCOUNT_NOT_FOUND", {
      account_id: id,
    });
    await expectRefusal(ledger.client.closeAccount({ accountId: id }), Code.NotFound, "ACCOUNT_NOT_FOUND");
    await expectRefusal(
      ledger.client.getAccount({ accountId: "nope" }),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
      {
        field: "account_id",
      },
    );
  });

  test("the database refuses to delete an account or change what it is", async ({ ledger }) => {
    const a = await openAccount(ledger.client);
    await expect(ledger.pool.query("DELETE FROM accounts WHERE id = $1", [a.id])).rejects.toThrow(
      /accounts are never deleted/,
    );
    await expect(
      ledger.pool.query("UPDATE accounts SET currency = 'USD' WHERE id = $1", [a.id]),
    ).rejects.toThrow(/account identity is fixed/);
    await expect(ledger.pool.query("TRUNCATE accounts CASCADE")).rejects.toThrow(
      /accounts are never deleted/,
    );
  });
});
