import { Code } from "@connectrpc/connect";
import { describe, expect } from "vitest";
import { expectRefusal, fxTest } from "./test/harness.js";

const test = fxTest({ FX_QUOTE_TTL_SECONDS: "30", FX_SPREAD_BPS: "0" });

describe("currencies and rates", () => {
  test("lists the default currencies with their minor units", async ({ fx }) => {
    const { data } = await fx.client.listCurrencies({});
    expect(data.map((c) => [c.code, c.minorUnits])).toEqual([
      ["MYR", 2],
      ["SGD", 2],
      ["USD", 2],
    ]);
  });

  test("answers a set rate, its inverse and a cross rate through MYR", async ({ fx }) => {
    const direct = await fx.client.getRate({ base: "SGD", quote: "MYR" });
    expect(direct.rate).toMatchObject({ rate: "3.5", derivation: "direct", source: "seed" });
    const inverse = await fx.client.getRate({ base: "myr", quote: "usd" });
    expect(inverse.rate).toMatchObject({
      base: "MYR",
      quote: "USD",
      rate: "0.212765957447",
      derivation: "inverse",
    });
    const cross = await fx.client.getRate({ base: "SGD", quote: "USD" });
    expect(cross.rate).toMatchObject({ rate: "0.744680851064", derivation: "cross" });
  });

  test("lists every rate from a base", async ({ fx }) => {
    const res = await fx.client.listRates({ base: "USD" });
    expect(res.data.map((r) => `${r.base}/${r.quote}=${r.rate}`)).toEqual([
      "USD/MYR=4.7",
      "USD/SGD=1.342857142857",
    ]);
    expect((await fx.client.listRates({})).base).toBe("MYR");
  });

  test("refuses an unknown code, an unsupported currency and a pair of one currency", async ({ fx }) => {
    await expectRefusal(
      fx.client.getRate({ base: "XYZ", quote: "MYR" }),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
      {
        field: "base",
      },
    );
    await expectRefusal(
      fx.client.getRate({ base: "EUR", quote: "MYR" }),
      Code.FailedPrecondition,
      "CURRENCY_NOT_SUPPORTED",
      {
        currency: "EUR",
      },
    );
    await expectRefusal(
      fx.client.getRate({ base: "MYR", quote: "MYR" }),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
      {
        field: "quote",
      },
    );
  });
});
