import { expect } from "vitest";
import type { ErrorBody, Transaction } from "./test/harness.js";
import { balanceOf, defaultWallet, fund, platformTest } from "./test/harness.js";

// FRAUD_UNAVAILABLE_POLICY=decline: when fraud does not answer, the payment is refused rather than held,
// and never approved blindly.
const test = platformTest({ walletEnv: { FRAUD_UNAVAILABLE_POLICY: "decline" } });

test("with the decline policy a payment fraud cannot score is refused and moves no money", async ({
  platform: p,
}) => {
  const ana = await p.signup();
  const w = await defaultWallet(p, ana);
  await fund(p, ana, w.id, "50.00");
  p.fraudDown = true;
  try {
    const res = await p.api<ErrorBody>("POST", "/api/v1/transactions", {
      token: ana.token,
      json: {
        amount: "5.00",
        currency: "MYR",
        merchant_name: "Kedai",
        merchant_category: "groceries",
        transaction_type: "purchase",
      },
    });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({
      error: "TRANSACTION_DECLINED",
      details: { failure_reason: "FRAUD_UNAVAILABLE" },
    });
    const failed = await p.api<Transaction>(
      "GET",
      `/api/v1/transactions/${res.body.details.transaction_id}`,
      {
        token: ana.token,
      },
    );
    expect(failed.body).toMatchObject({ status: "failed", fraud_decision: "unscored" });
  } finally {
    p.fraudDown = false;
  }
  expect(await balanceOf(p, ana, w.id)).toMatchObject({ available: "50.00", pending: "0.00" });
  // Top-ups are not scored: they go through while fraud is down.
  p.fraudDown = true;
  try {
    await fund(p, ana, w.id, "1.00");
  } finally {
    p.fraudDown = false;
  }
  await p.expectBooksBalance();
});
