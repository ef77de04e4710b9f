import { Code } from "@connectrpc/connect";
import { describe, expect } from "vitest";
import { expectRefusal, fxTest } from "./test/harness.js";

const test = fxTest({ FX_QUOTE_TTL_SECONDS: "30", FX_SPREAD_BPS: "0" });

describe("quotes", () => {
  test("a quote locks the rate until it expires and is redeemed once", async ({ fx }) => {
    const { quote } = await fx.client.createQuote({
      fromCurrency: "SGD",
      toCurrency: "MYR",
      amount: "100.00",
    });
    expect(quote).toMatchObject({ rate: "3.5", fromAmount: "100.00", toAmount: "350.00", status: "open" });
    expect(Number(quote?.expiresAt?.seconds) - Number(quote?.createdAt?.seconds)).toBe(30);

    // A later rate change does not move the quote.
    await fx.admin.setRate({ base: "SGD", quote: "MYR", rate: "3.60" });
    const id = quote?.quoteId ?? "";
    expect((await fx.client.getQuote({ quoteId: id })).quote?.toAmount).toBe("350.00");

    const redeemed = await fx.client.redeemQuote({ quoteId: id });
    expect(redeemed.quote).toMatchObject({ status: "redeemed", toAmount: "350.00" });
    await expectRefusal(
      fx.client.redeemQuote({ quoteId: id }),
      Code.FailedPrecondition,
      "QUOTE_ALREADY_REDEEMED",
    );
  });

  test("an expired quote cannot be redeemed", async ({ fx }) => {
    const { quote } = await fx.client.createQuote({ fromCurrency: "MYR", toCurrency: "USD", amount: "47" });
    expect(quote).toMatchObject({ toAmount: "10.00" });
    fx.clock.advance(30_000);
    expect((await fx.client.getQuote({ quoteId: quote?.quoteId ?? "" })).quote?.status).toBe("expired");
    await expectRefusal(
      fx.client.redeemQuote({ quoteId: quote?.quoteId ?? "" }),
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
    const res = await fx.client.convert({ fromCurrency: "USD", toCurrency: "MYR", amount: "10.00" });
    expect(res).toMatchObject({ toAmount: "47.00", rate: "4.7", fromAmount: "10.00" });
  });
});
