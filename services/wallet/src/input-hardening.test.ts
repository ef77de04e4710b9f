import { TransactionType } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import { WalletService } from "@fintech/proto/fintech/wallet/v1/wallet_pb.js";
import { grpcClient, grpcErrorInfo, unary } from "@fintech/testing";
import type { ServiceError } from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import { describe, expect } from "vitest";
import { fund, platformTest } from "./test/harness.js";

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

describe("lists through the gateway", () => {
  // Found by the API fuzz test: any offset on a wallet's list failed in Postgres ("operator is not unique").
  test("a wallet's transactions page by offset, up to the largest offset", async ({ platform }) => {
    const user = await platform.signup();
    const wallets = await platform.api<{ data: Array<{ id: string }> }>("GET", "/api/v1/wallets", {
      token: user.token,
    });
    const wallet = wallets.body.data[0]?.id ?? "";
    await fund(platform, user, wallet, "10.00");
    await fund(platform, user, wallet, "20.00");
    const path = `/api/v1/wallets/${wallet}/transactions?sort_by=amount&sort_order=asc&limit=1`;
    const page = await platform.api<{ data: Array<{ amount: string }> }>("GET", `${path}&offset=1`, {
      token: user.token,
    });
    expect(page.status).toBe(200);
    expect(page.body.data.map((t) => t.amount)).toEqual(["20.00"]);
    const far = await platform.api<{ data: unknown[] }>("GET", `${path}&offset=2147483647`, {
      token: user.token,
    });
    expect({ status: far.status, data: far.body.data }).toEqual({ status: 200, data: [] });
  });
});
