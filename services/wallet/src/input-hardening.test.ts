import { TransactionType } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import { WalletService } from "@fintech/proto/fintech/wallet/v1/wallet_pb.js";
import { grpcClient, grpcErrorInfo, unary } from "@fintech/testing";
import type { ServiceError } from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import { describe, expect } from "vitest";
import { platformTest } from "./test/harness.js";

// A stock @grpc/grpc-js client on the wallet's own port, as a caller inside the cluster would reach it:
// the wallet checks what the gateway checks, and more.
const test = platformTest();

describe("input on the wallet port", () => {
  test("a NUL in a field or an amount beyond 64 bits is InvalidArgument naming the field", async ({
    platform,
  }) => {
    const user = await platform.signup();
    const auth = { authorization: `Bearer ${user.token}` };
    const client = grpcClient(platform.walletPort);
    const purchase = {
      amount: "12.50",
      currency: "MYR",
      merchantName: "Kopi Corner",
      merchantCategory: "food_beverage",
      transactionType: TransactionType.PURCHASE,
    };
    try {
      for (const [change, field] of [
        [{ merchantName: "Kopi\u0000Corner" }, "merchant_name"],
        [{ description: "\u001b[2J" }, "description"],
        [{ amount: "9223372036854775808" }, "amount"],
        [{ amount: "99999999999999999999999999999.99" }, "amount"],
      ] as const) {
        const err = (await unary(
          client,
          WalletService.method.createTransaction,
          { ...purchase, ...change },
          auth,
        ).catch((e: unknown) => e)) as ServiceError;
        expect(err.code, field).toBe(status.INVALID_ARGUMENT);
        expect(grpcErrorInfo(err), field).toMatchObject({ reason: "VALIDATION_ERROR", metadata: { field } });
      }
    } finally {
      client.close();
    }
  });
});
