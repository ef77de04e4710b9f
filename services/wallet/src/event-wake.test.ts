import { waitFor } from "@fintech/testing";
import { describe, expect } from "vitest";
import type { ErrorBody, Transaction } from "./test/harness.js";
import { defaultWallet, fund, platformTest } from "./test/harness.js";

// A commit that writes events wakes its service's outbox relay: with the relays' polls a minute apart, the events
// of a top-up and a purchase (the wallet's, the ledger's and fraud's, each written by a statement that commits on
// its own or by a transaction) still reach the stream at once.
const POLL = { OUTBOX_POLL_INTERVAL_MS: "60000" };
const test = platformTest({ walletEnv: POLL, ledgerEnv: POLL, fraudEnv: POLL });

describe("events after a commit", () => {
  test("are published without waiting for the relay's poll", async ({ platform: p }) => {
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    await fund(p, ana, w.id, "50.00");
    const bought = await p.api<Transaction & ErrorBody>("POST", "/api/v1/transactions", {
      token: ana.token,
      json: {
        amount: "12.30",
        currency: "MYR",
        merchant_name: "Kedai",
        merchant_category: "groceries",
        transaction_type: "purchase",
      },
    });
    expect([bought.status, bought.body.status]).toEqual([201, "completed"]);
    await waitFor(async () => (await p.unpublishedEvents()) === 0, { timeoutMs: 10_000 });
  });

  test("of a purchase whose process died after recording it are published too, though nothing commits after", async ({
    platform: p,
  }) => {
    const bo = await p.signup();
    const w = await defaultWallet(p, bo);
    await fund(p, bo, w.id, "50.00");
    await waitFor(async () => (await p.unpublishedEvents()) === 0, { timeoutMs: 10_000 });
    // From the recording statement on, nothing the wallet does reaches its database or the ledger.
    let recorded = false;
    p.dbFault = (sql) => {
      if (recorded) return true;
      recorded = /INSERT INTO transactions/.test(sql);
      p.ledgerDown = recorded;
      return false;
    };
    try {
      const stuck = await p.api<Transaction & ErrorBody>("POST", "/api/v1/transactions", {
        token: bo.token,
        json: {
          amount: "7.00",
          currency: "MYR",
          merchant_name: "Kedai",
          merchant_category: "groceries",
          transaction_type: "purchase",
        },
      });
      expect(stuck.status).toBeGreaterThanOrEqual(500);
      // Its recording (the transaction created, and its audit entry) is all that committed.
      await waitFor(async () => (await p.unpublishedEvents()) === 0, { timeoutMs: 10_000 });
    } finally {
      p.dbFault = undefined;
      p.ledgerDown = false;
    }
  });
});
