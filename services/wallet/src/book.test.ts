import { randomUUID } from "node:crypto";
import type { Client } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import type { LedgerService } from "@fintech/proto/fintech/ledger/v1/ledger_pb.js";
import { describe, expect } from "vitest";
import { createBook } from "./book.js";
import { transferId } from "./ids.js";
import type { Leg } from "./model.js";
import type { Platform } from "./test/harness.js";
import { defaultWallet, fund, platformTest } from "./test/harness.js";

// The wallet's transfers reach the ledger in calls that concurrent transactions share: each transaction's
// chain still stands or falls alone, and each gets its own answer.
const test = platformTest();

const PURCHASE = 2;

/** The ledger as the wallet, counting the CreateTransfers calls made through it. */
function counted(ledger: Client<typeof LedgerService>): {
  ledger: Client<typeof LedgerService>;
  calls: () => number;
} {
  let calls = 0;
  return {
    ledger: {
      ...ledger,
      createTransfers(request, options) {
        calls++;
        return ledger.createTransfers(request, options);
      },
    },
    calls: () => calls,
  };
}

/** A funded wallet and the merchants' clearing account, for purchases of `amount` minor units. */
async function purchaseLegs(p: Platform, balance: string, book: ReturnType<typeof createBook>) {
  const user = await p.signup();
  const wallet = await defaultWallet(p, user);
  await fund(p, user, wallet.id, balance);
  const merchant = await book.systemAccount("merchant_clearing", "MYR");
  return (amount: bigint): Leg[] => [{ debit: wallet.id, credit: merchant, amount, currency: "MYR" }];
}

async function posted(p: Platform, transactionId: string): Promise<boolean> {
  try {
    await p.ledger.getTransfer({ transferId: transferId(transactionId, 0, "post") });
    return true;
  } catch (err) {
    if (err instanceof ConnectError && err.code === Code.NotFound) return false;
    throw err;
  }
}

describe("transfers sent to the ledger", () => {
  test("concurrent transactions share calls, and each is answered with its own outcome", async ({
    platform: p,
  }) => {
    const { ledger, calls } = counted(p.ledger);
    const book = createBook(ledger);
    const legs = await purchaseLegs(p, "5.00", book);
    const ids = Array.from({ length: 10 }, () => randomUUID());
    const outcomes = await Promise.all(ids.map((id) => book.apply(id, legs(100n), "post", PURCHASE)));
    // Ten purchases of 1.00 from 5.00: five are refused, and the ones answered ok are the ones the ledger posted.
    expect(outcomes.filter((o) => o.ok)).toHaveLength(5);
    for (const [i, o] of outcomes.entries()) {
      expect(await posted(p, ids[i] ?? "")).toBe(o.ok);
      if (!o.ok) expect(o.refusal.reason).toBe("INSUFFICIENT_FUNDS");
    }
    expect(calls()).toBeLessThan(ids.length);
  });

  test("a transaction whose transfers the ledger rejects as invalid fails alone", async ({ platform: p }) => {
    const { ledger, calls } = counted(p.ledger);
    const book = createBook(ledger);
    const legs = await purchaseLegs(p, "5.00", book);
    const ids = Array.from({ length: 4 }, () => randomUUID());
    const invalid: Leg[] = [{ ...(legs(100n)[0] as Leg), debit: "not-an-account" }];
    const outcomes = await Promise.allSettled(
      ids.map((id, i) => book.apply(id, i === 1 ? invalid : legs(100n), "post", PURCHASE)),
    );
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled", "fulfilled"]);
    const rejected = outcomes[1];
    expect(rejected?.status === "rejected" && ConnectError.from(rejected.reason).code).toBe(
      Code.InvalidArgument,
    );
    expect(await Promise.all(ids.map((id) => posted(p, id)))).toEqual([true, false, true, true]);
    // One shared call, refused as a whole, then one call per transaction.
    expect(calls()).toBe(1 + ids.length);
  });

  test("one transaction's transfers sent twice at once move its money once", async ({ platform: p }) => {
    const { ledger } = counted(p.ledger);
    const book = createBook(ledger);
    const legs = await purchaseLegs(p, "5.00", book);
    const id = randomUUID();
    // A request and a recovery pass driving one transaction at once, in one call: the second chain replays.
    const outcomes = await Promise.all([1, 2].map(() => book.apply(id, legs(100n), "post", PURCHASE)));
    expect(outcomes).toEqual([{ ok: true }, { ok: true }]);
    const { account } = await p.ledger.getAccount({ accountId: legs(0n)[0]?.debit ?? "" });
    expect(account?.balance?.debitsPosted).toBe("1.00");
  });
});
