import { randomUUID } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { describe } from "vitest";
import { expectRefusal, ledgerTest } from "./test/harness.js";

const test = ledgerTest();

describe("validation", () => {
  test("bad requests are InvalidArgument naming the field, never Internal", async ({ ledger }) => {
    const c = ledger.client;
    const ok = {
      id: randomUUID(),
      debitAccountId: randomUUID(),
      creditAccountId: randomUUID(),
      currency: "MYR",
      amount: "1.00",
    };
    const cases: Array<[Promise<unknown>, string]> = [
      [c.createTransfer({}), "transfer"],
      [c.createTransfer({ transfer: { ...ok, id: "x" } }), "transfer.id"],
      [c.createTransfer({ transfer: { ...ok, currency: "XYZ" } }), "transfer.currency"],
      [c.createTransfer({ transfer: { ...ok, amount: "-1.00" } }), "transfer.amount"],
      [c.createTransfer({ transfer: { ...ok, amount: "1e3" } }), "transfer.amount"],
      [c.createTransfer({ transfer: { ...ok, amount: "92233720368547758.08" } }), "transfer.amount"],
      [c.createTransfer({ transfer: { ...ok, timeoutSeconds: 5 } }), "transfer.timeout_seconds"],
      [c.createTransfer({ transfer: { ...ok, pendingId: randomUUID() } }), "transfer.pending_id"],
      [
        c.createTransfer({ transfer: { ...ok, flags: { pending: true, postPending: true } } }),
        "transfer.flags",
      ],
      [
        c.createTransfer({ transfer: { id: randomUUID(), flags: { postPending: true } } }),
        "transfer.pending_id",
      ],
      [
        c.createTransfer({
          transfer: {
            id: randomUUID(),
            pendingId: randomUUID(),
            amount: "1.00",
            flags: { voidPending: true },
          },
        }),
        "transfer.currency",
      ],
      [c.createTransfer({ transfer: { ...ok, reference: "r".repeat(257) } }), "transfer.reference"],
      [c.createTransfer({ transfer: { ...ok, userData: { "": "x" } } }), "transfer.user_data"],
      [c.createTransfers({ transfers: [] }), "transfers"],
      [c.createTransfers({ transfers: [ok, { ...ok, id: "nope" }] }), "transfers[1].id"],
      [
        c.createAccount({
          currency: "MYR",
          flags: { debitsMustNotExceedCredits: true, creditsMustNotExceedDebits: true },
        }),
        "flags",
      ],
      [c.createAccount({ currency: "MYR", flags: { closed: true } }), "flags.closed"],
      [c.createAccount({ currency: "MYR", code: 2 ** 31 }), "code"],
      [c.listAccountTransfers({ accountId: randomUUID(), limit: 1001 }), "limit"],
      [c.getBalanceAt({ accountId: randomUUID(), at: { seconds: 10n ** 15n } }), "at"],
    ];
    for (const [call, field] of cases) {
      await expectRefusal(call, Code.InvalidArgument, "VALIDATION_ERROR", { field });
    }
  });
});
