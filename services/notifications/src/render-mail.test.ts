import { describe, expect, test } from "vitest";
import type { MailContent } from "./mail-model.js";
import { mailAmount, renderMail } from "./render-mail.js";

const purchase: MailContent = {
  template: "transaction",
  change: "completed",
  transactionId: "0b6f2c1e-8d4a-4e5b-9c3f-1a2b3c4d5e6f",
  type: "purchase",
  direction: "",
  amount: "1234567.5",
  currency: "MYR",
  merchantName: "Kopi <Corner> & Co",
  provider: "",
  occurredAt: "2030-01-01T08:00:00.000Z",
};

describe("mailAmount", () => {
  test("shows the currency's minor units and groups thousands, from the decimal string itself", () => {
    expect(mailAmount("1234567.5", "MYR")).toBe("MYR 1,234,567.50");
    expect(mailAmount("1000", "JPY")).toBe("JPY 1,000");
    expect(mailAmount("0.005", "KWD")).toBe("KWD 0.005");
    expect(mailAmount("92233720368547758.07", "USD")).toBe("USD 92,233,720,368,547,758.07");
  });

  test("refuses what libs/money refuses", () => {
    expect(() => mailAmount("1.001", "MYR")).toThrow();
    expect(() => mailAmount("1.00", "XXX")).toThrow();
  });
});

describe("renderMail", () => {
  test("a purchase receipt names the amount and the merchant in the subject, the text and the HTML", () => {
    const mail = renderMail(purchase);
    expect(mail.subject).toBe("Payment receipt: MYR 1,234,567.50 paid to Kopi <Corner> & Co");
    expect(mail.text).toContain("MYR 1,234,567.50 paid to Kopi <Corner> & Co.");
    expect(mail.text).toContain("0b6f2c1e-8d4a-4e5b-9c3f-1a2b3c4d5e6f");
    // The merchant's name is the user's text: escaped in the HTML, never markup.
    expect(mail.html).toContain("Kopi &lt;Corner&gt; &amp; Co");
    expect(mail.html).not.toContain("<Corner>");
  });

  test("a merchant's line break never reaches the subject", () => {
    const mail = renderMail({ ...purchase, merchantName: "Kopi\r\nBcc: someone@example.com" });
    expect(mail.subject).not.toMatch(/[\r\n]/);
  });

  test("each transaction type and change says what happened", () => {
    const subject = (over: Partial<Extract<MailContent, { template: "transaction" }>>) =>
      renderMail({ ...purchase, merchantName: "", amount: "20.00", ...over }).subject;
    expect(subject({ type: "top_up", provider: "visa" })).toBe("Top-up receipt: MYR 20.00 added from visa");
    expect(subject({ type: "withdrawal", provider: "wire" })).toBe(
      "Withdrawal receipt: MYR 20.00 withdrawn to wire",
    );
    expect(subject({ type: "transfer", direction: "outgoing" })).toBe("Transfer receipt: MYR 20.00 sent");
    expect(subject({ type: "transfer", direction: "incoming" })).toBe("Transfer receipt: MYR 20.00 received");
    expect(subject({ type: "refund", merchantName: "Kopi Corner" })).toBe(
      "Refund receipt: MYR 20.00 refunded by Kopi Corner",
    );
    expect(subject({ change: "reversed" })).toBe("Payment reversed: MYR 20.00");
  });

  test("reviews: held with the amount, decided with the outcome", () => {
    const held = renderMail({
      template: "review_held",
      transactionId: "t-1",
      amount: "5000.00",
      currency: "MYR",
      occurredAt: "2030-01-01T08:00:00.000Z",
    });
    expect(held.subject).toBe("Payment held for review: MYR 5,000.00");
    const approved = renderMail({
      template: "review_decided",
      transactionId: "t-1",
      decision: "approved",
      occurredAt: "2030-01-01T09:00:00.000Z",
    });
    expect(approved.subject).toBe("Payment approved after review");
    const rejected = renderMail({
      template: "review_decided",
      transactionId: "t-1",
      decision: "rejected",
      occurredAt: "2030-01-01T09:00:00.000Z",
    });
    expect(rejected.subject).toBe("Payment declined after review");
    const named = renderMail(
      {
        template: "review_decided",
        transactionId: "t-1",
        decision: "rejected",
        occurredAt: "2030-01-01T09:00:00.000Z",
      },
      { amountMinor: 120_000n, currency: "SGD", merchantName: "Orchard <Watches>" },
    );
    expect(named.text).toContain("SGD 1,200.00");
    expect(named.html).toContain("Orchard &lt;Watches&gt;");
    expect(rejected.text).toContain("available again");
  });
});
