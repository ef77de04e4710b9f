import { randomUUID } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { testService, testUser } from "@fintech/testing";
import { describe, expect } from "vitest";
import { expectRefusal, fxTest } from "./test/harness.js";

const test = fxTest({ FX_QUOTE_TTL_SECONDS: "30", FX_SPREAD_BPS: "0" });

describe("quotes", () => {
  test("a quote locks the rate until it expires and is redeemed once", async ({ fx }) => {
    // The wallet's path: it quotes and redeems with its own service token.
    const wallet = fx.clientAs(testService("wallet"));
    const { quote } = await wallet.createQuote({
      fromCurrency: "SGD",
      toCurrency: "MYR",
      amount: "100.00",
    });
    expect(quote).toMatchObject({ rate: "3.5", fromAmount: "100.00", toAmount: "350.00", status: "open" });
    expect(Number(quote?.expiresAt?.seconds) - Number(quote?.createdAt?.seconds)).toBe(30);

    // A later rate change does not move the quote.
    await fx.admin.setRate({ base: "SGD", quote: "MYR", rate: "3.60" });
    const id = quote?.quoteId ?? "";
    expect((await wallet.getQuote({ quoteId: id })).quote?.toAmount).toBe("350.00");

    const redeemed = await wallet.redeemQuote({ quoteId: id });
    expect(redeemed.quote).toMatchObject({ status: "redeemed", toAmount: "350.00" });
    await expectRefusal(
      wallet.redeemQuote({ quoteId: id }),
      Code.FailedPrecondition,
      "QUOTE_ALREADY_REDEEMED",
    );
  });

  test("an expired quote cannot be redeemed", async ({ fx }) => {
    const wallet = fx.clientAs(testService("wallet"));
    const { quote } = await wallet.createQuote({ fromCurrency: "MYR", toCurrency: "USD", amount: "47" });
    expect(quote).toMatchObject({ toAmount: "10.00" });
    fx.clock.advance(30_000);
    expect((await wallet.getQuote({ quoteId: quote?.quoteId ?? "" })).quote?.status).toBe("expired");
    await expectRefusal(
      wallet.redeemQuote({ quoteId: quote?.quoteId ?? "" }),
      Code.FailedPrecondition,
      "QUOTE_EXPIRED",
    );
  });

  test("rounds half-even to the target currency's minor units", async ({ fx }) => {
    // 0.03 MYR * (1/4.70 = 0.212765957447) = 0.00638... USD -> 0.01
    const small = await fx.client.createQuote({ fromCurrency: "MYR", toCurrency: "USD", amount: "0.03" });
    expect(small.quote?.toAmount).toBe("0.01");
    await expectRefusal(
      fx.client.createQuote({ fromCurrency: "MYR", toCurrency: "USD", amount: "0.02" }),
      Code.FailedPrecondition,
      "AMOUNT_TOO_SMALL",
    );
  });

  test("refuses bad amounts, unknown and unsupported currencies, and unknown quotes", async ({ fx }) => {
    for (const amount of ["0", "-5.00", "10.001", "1e3", "", "ten"]) {
      await expectRefusal(
        fx.client.createQuote({ fromCurrency: "MYR", toCurrency: "SGD", amount }),
        Code.InvalidArgument,
        "VALIDATION_ERROR",
        { field: "amount" },
      );
    }
    await expectRefusal(
      fx.client.createQuote({ fromCurrency: "MYR", toCurrency: "JPY", amount: "10" }),
      Code.FailedPrecondition,
      "CURRENCY_NOT_SUPPORTED",
      { field: "to_currency" },
    );
    await expectRefusal(
      fx.client.createQuote({ fromCurrency: "MY", toCurrency: "SGD", amount: "10" }),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
      { field: "from_currency" },
    );
    await expectRefusal(
      fx.client.getQuote({ quoteId: "00000000-0000-4000-8000-000000000000" }),
      Code.NotFound,
      "QUOTE_NOT_FOUND",
    );
    await expectRefusal(fx.client.getQuote({ quoteId: "nope" }), Code.InvalidArgument, "VALIDATION_ERROR", {
      field: "quote_id",
    });
  });

  test("converts at the mid rate without locking", async ({ fx }) => {
    const res = await fx
      .clientAs(testService("wallet"))
      .convert({ fromCurrency: "USD", toCurrency: "MYR", amount: "10.00" });
    expect(res).toMatchObject({ toAmount: "47.00", rate: "4.7", fromAmount: "10.00" });
  });

  test("a quote is its creator's: another user reads and redeems nothing, an admin reads it", async ({
    fx,
  }) => {
    const { quote } = await fx.client.createQuote({
      fromCurrency: "SGD",
      toCurrency: "MYR",
      amount: "10.00",
    });
    const quoteId = quote?.quoteId ?? "";
    expect((await fx.client.getQuote({ quoteId })).quote?.quoteId).toBe(quoteId);

    const other = fx.clientAs(testUser("user-2"));
    await expectRefusal(other.getQuote({ quoteId }), Code.NotFound, "QUOTE_NOT_FOUND");
    expect((await fx.admin.getQuote({ quoteId })).quote).toMatchObject({ quoteId, status: "open" });
  });

  test("the wallet quotes for a user, who alone reads it; a user cannot quote in another's name", async ({
    fx,
  }) => {
    const ana = randomUUID();
    const bo = randomUUID();
    const { quote } = await fx.clientAs(testService("wallet")).createQuote({
      fromCurrency: "SGD",
      toCurrency: "MYR",
      amount: "10.00",
      forUserId: ana,
    });
    const quoteId = quote?.quoteId ?? "";
    expect((await fx.clientAs(testUser(ana)).getQuote({ quoteId })).quote?.quoteId).toBe(quoteId);
    await expectRefusal(fx.clientAs(testUser(bo)).getQuote({ quoteId }), Code.NotFound, "QUOTE_NOT_FOUND");
    await expectRefusal(
      fx
        .clientAs(testUser(bo))
        .createQuote({ fromCurrency: "SGD", toCurrency: "MYR", amount: "10.00", forUserId: ana }),
      Code.PermissionDenied,
      "FORBIDDEN",
    );
    expect((await fx.clientAs(testService("wallet")).redeemQuote({ quoteId })).quote?.status).toBe(
      "redeemed",
    );
  });

  test("RedeemQuote and Convert are for services: a user or an admin is refused", async ({ fx }) => {
    const { quote } = await fx.client.createQuote({
      fromCurrency: "SGD",
      toCurrency: "MYR",
      amount: "10.00",
    });
    for (const caller of [fx.client, fx.admin]) {
      await expectRefusal(
        caller.redeemQuote({ quoteId: quote?.quoteId ?? "" }),
        Code.PermissionDenied,
        "FORBIDDEN",
      );
      await expectRefusal(
        caller.convert({ fromCurrency: "USD", toCurrency: "MYR", amount: "10.00" }),
        Code.PermissionDenied,
        "FORBIDDEN",
      );
    }
    // The quote was not spent by the refused attempts.
    expect((await fx.client.getQuote({ quoteId: quote?.quoteId ?? "" })).quote?.status).toBe("open");
  });

  test("a caller who may not call a method is refused before its request is checked", async ({ fx }) => {
    await expectRefusal(fx.client.redeemQuote({ quoteId: "nope" }), Code.PermissionDenied, "FORBIDDEN");
    await expectRefusal(
      fx.client.convert({ fromCurrency: "??", toCurrency: "", amount: "-1" }),
      Code.PermissionDenied,
      "FORBIDDEN",
    );
    await expectRefusal(
      fx.client.setRate({ base: "x", quote: "", rate: "-" }),
      Code.PermissionDenied,
      "FORBIDDEN",
    );
    await expectRefusal(fx.clientAs().getQuote({ quoteId: "nope" }), Code.Unauthenticated, "UNAUTHENTICATED");
  });
});
