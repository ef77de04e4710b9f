import { randomUUID } from "node:crypto";
import { AccountKind, LedgerService } from "@fintech/proto/fintech/ledger/v1/ledger_pb.js";
import { Health, HealthCheckResponse_ServingStatus } from "@fintech/proto/grpc/health/v1/health_pb.js";
import { grpcClient, grpcErrorInfo, testAdmin, testService, unary } from "@fintech/testing";
import type { ServiceError } from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import { describe, expect } from "vitest";
import { ledgerTest, startReplica } from "./test/harness.js";

// A stock @grpc/grpc-js client, not Connect: what any gRPC tool or language sees on the ledger port.
const test = ledgerTest();

describe("callers", () => {
  test("a service calls with its token; users and anonymous callers are refused", async ({ ledger }) => {
    const client = grpcClient(ledger.port);
    try {
      const health = await unary(client, Health.method.check, { service: LedgerService.typeName });
      expect(health.message.status).toBe(HealthCheckResponse_ServingStatus.SERVING);

      const wallet = { authorization: `Bearer ${await ledger.token(testService("wallet"))}` };
      const created = await unary(client, LedgerService.method.createAccount, { currency: "MYR" }, wallet);
      expect(created.message.account?.currency).toBe("MYR");
      const world = await unary(
        client,
        LedgerService.method.getSystemAccount,
        { kind: AccountKind.SETTLEMENT, currency: "MYR" },
        wallet,
      );
      const moved = await unary(
        client,
        LedgerService.method.createTransfer,
        {
          transfer: {
            id: randomUUID(),
            debitAccountId: world.message.account?.id ?? "",
            creditAccountId: created.message.account?.id ?? "",
            amount: "1.50",
            currency: "MYR",
          },
        },
        wallet,
      );
      expect(moved.message.transfer?.amount).toBe("1.50");

      const user = {
        authorization: `Bearer ${await ledger.token(testAdmin("u1"))}`,
      };
      const asUser = await unary(client, LedgerService.method.createAccount, { currency: "MYR" }, user).catch(
        (e) => e,
      );
      expect(asUser.code).toBe(status.PERMISSION_DENIED);
      const refusedRead = await unary(
        client,
        LedgerService.method.getAccount,
        { accountId: created.message.account?.id ?? "" },
        user,
      ).catch((e) => e);
      expect(refusedRead.code).toBe(status.PERMISSION_DENIED);

      const anonymous = await unary(client, LedgerService.method.getAccount, {
        accountId: randomUUID(),
      }).catch((e) => e);
      expect(anonymous.code).toBe(status.UNAUTHENTICATED);
      const forged = await unary(
        client,
        LedgerService.method.getAccount,
        { accountId: randomUUID() },
        { authorization: "Bearer not.a.jwt" },
      ).catch((e) => e);
      expect(forged.code).toBe(status.UNAUTHENTICATED);
      const apiKey = await unary(
        client,
        LedgerService.method.getAccount,
        { accountId: randomUUID() },
        { "x-api-key": "fk_live_something" },
      ).catch((e) => e);
      expect(apiKey.code).toBe(status.UNAUTHENTICATED);
    } finally {
      client.close();
    }
  });

  test("a user's invalid request is refused as the user's, before the request is checked", async ({
    ledger,
  }) => {
    const client = grpcClient(ledger.port);
    try {
      const user = {
        authorization: `Bearer ${await ledger.token(testAdmin("u1"))}`,
      };
      const badAccount = await unary(
        client,
        LedgerService.method.createAccount,
        { currency: "??" },
        user,
      ).catch((e) => e);
      expect(badAccount.code).toBe(status.PERMISSION_DENIED);
      const badTransfer = await unary(
        client,
        LedgerService.method.createTransfer,
        { transfer: { id: "x", amount: "-1", currency: "" } },
        user,
      ).catch((e) => e);
      expect(badTransfer.code).toBe(status.PERMISSION_DENIED);
      const anonymous = await unary(client, LedgerService.method.getAccount, { accountId: "x" }).catch(
        (e) => e,
      );
      expect(anonymous.code).toBe(status.UNAUTHENTICATED);
    } finally {
      client.close();
    }
  });

  test("LEDGER_CALLERS narrows which services may call", async ({ ledger }) => {
    const replica = await startReplica(ledger, { LEDGER_CALLERS: ["wallet"] });
    const client = grpcClient(Number(new URL(replica.url).port));
    try {
      const as = async (service: string) => ({
        authorization: `Bearer ${await ledger.token(testService(service))}`,
      });
      const ok = await unary(
        client,
        LedgerService.method.createAccount,
        { currency: "MYR" },
        await as("wallet"),
      );
      expect(ok.message.account?.currency).toBe("MYR");
      const other = await unary(
        client,
        LedgerService.method.createAccount,
        { currency: "MYR" },
        await as("fraud"),
      ).catch((e) => e);
      expect(other.code).toBe(status.PERMISSION_DENIED);
    } finally {
      client.close();
      await replica.stop();
    }
  });
});

describe("text", () => {
  test("a NUL in a field is InvalidArgument naming the field, not a database error", async ({ ledger }) => {
    const client = grpcClient(ledger.port);
    const wallet = { authorization: `Bearer ${await ledger.token(testService("wallet"))}` };
    try {
      const err = (await unary(
        client,
        LedgerService.method.createAccount,
        { currency: "MYR", ownerRef: "wallet:\u0000" },
        wallet,
      ).catch((e: unknown) => e)) as ServiceError;
      expect(err.code).toBe(status.INVALID_ARGUMENT);
      expect(grpcErrorInfo(err)).toMatchObject({
        reason: "VALIDATION_ERROR",
        metadata: { field: "owner_ref" },
      });
    } finally {
      client.close();
    }
  });
});
