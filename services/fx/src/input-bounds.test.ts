import { Code } from "@connectrpc/connect";
import { FxService } from "@fintech/proto/fintech/fx/v1/fx_pb.js";
import { grpcClient, grpcErrorInfo, testService, testUser, unary } from "@fintech/testing";
import type { ServiceError } from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import { describe, expect } from "vitest";
import { expectRefusal, fxTest } from "./test/harness.js";

// Inputs a client can send that once reached Postgres and failed there as 500 INTERNAL.
const test = fxTest();

describe("input bounds", () => {
  test("an amount beyond 64-bit minor units is a VALIDATION_ERROR on amount, not an overflow", async ({
    fx,
  }) => {
    for (const amount of ["9223372036854775808", "99999999999999999999999999999.99", "1".repeat(500)]) {
      await expectRefusal(
        fx.client.createQuote({ fromCurrency: "MYR", toCurrency: "SGD", amount }),
        Code.InvalidArgument,
        "VALIDATION_ERROR",
        { field: "amount" },
      );
    }
  });

  test("an amount in range that converts to one out of range is refused too", async ({ fx }) => {
    // The largest USD amount, times 4.70 MYR per USD.
    const largest = { fromCurrency: "USD", toCurrency: "MYR", amount: "92233720368547758.07" };
    await expectRefusal(fx.client.createQuote(largest), Code.InvalidArgument, "VALIDATION_ERROR", {
      field: "amount",
    });
    // Convert is for services (the wallet).
    await expectRefusal(
      fx.clientAs(testService("wallet")).convert(largest),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
      { field: "amount" },
    );
    // The same amount the other way fits, and is quoted.
    const { quote } = await fx.client.createQuote({ ...largest, fromCurrency: "MYR", toCurrency: "USD" });
    expect(quote?.fromAmount).toBe("92233720368547758.07");
  });

  test("a NUL in a field, from a stock grpc-js client, is InvalidArgument naming the field", async ({
    fx,
  }) => {
    const client = grpcClient(fx.port);
    const auth = { authorization: `Bearer ${await fx.token(testUser("user-1"))}` };
    try {
      const err = (await unary(
        client,
        FxService.method.createQuote,
        { fromCurrency: "MYR", toCurrency: "SGD\u0000", amount: "10.00" },
        auth,
      ).catch((e: unknown) => e)) as ServiceError;
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(grpcErrorInfo(err)).toMatchObject({
        reason: "VALIDATION_ERROR",
        metadata: { field: "to_currency" },
      });
    } finally {
      client.close();
    }
  });

  test("a list cursor naming a row id beyond BIGINT is a VALIDATION_ERROR on cursor", async ({ fx }) => {
    const cursor = Buffer.from("9999999999999999999").toString("base64url");
    await expectRefusal(
      fx.client.listRateHistory({ base: "SGD", quote: "MYR", limit: 10, cursor }),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
      { field: "cursor" },
    );
  });
});
