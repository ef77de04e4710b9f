import { randomUUID } from "node:crypto";
import { fromBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { namespacedSubject, streamName } from "@fintech/events";
import { TransferExpiredSchema } from "@fintech/proto/fintech/ledger/v1/events_pb.js";
import { TransferStatus } from "@fintech/proto/fintech/ledger/v1/ledger_pb.js";
import { waitFor } from "@fintech/testing";
import { jetstreamManager } from "@nats-io/jetstream";
import pino from "pino";
import { describe, expect } from "vitest";
import { createExpirySweeper, expiryTransferId } from "./expiry-sweeper.js";
import { ledgerMetrics } from "./metrics.js";
import { expectRefusal, fund, ledgerTest, move, openAccount } from "./test/harness.js";

const test = ledgerTest();

describe("pending timeouts", () => {
  test("a timed-out pending transfer is voided by the sweeper and published as expired", async ({
    ledger,
  }) => {
    const a = await openAccount(ledger.client);
    const b = await openAccount(ledger.client);
    await fund(ledger.client, a, "100.00");
    const p1 = move(a, b, "30.00", { flags: { pending: true }, timeoutSeconds: 30 });
    const p2 = move(a, b, "20.00", { flags: { pending: true }, timeoutSeconds: 30 });
    const p3 = move(a, b, "10.00", { flags: { pending: true }, timeoutSeconds: 30 });
    await ledger.client.createTransfers({ transfers: [p1, p2, p3] });
    const created = await ledger.client.getTransfer({ transferId: p1.id ?? "" });
    expect(created.transfer?.expiresAt?.seconds).toBe(BigInt(ledger.clock.now().getTime() / 1000 + 30));
    await ledger.client.createTransfer({
      transfer: { id: randomUUID(), pendingId: p3.id ?? "", flags: { postPending: true } },
    });

    ledger.clock.advance(29_000);
    expect(await ledger.app.sweeper.runOnce()).toBe(0);
    ledger.clock.advance(1_000);
    await expectRefusal(
      ledger.client.createTransfer({
        transfer: { id: randomUUID(), pendingId: p1.id ?? "", flags: { postPending: true } },
      }),
      Code.FailedPrecondition,
      "PENDING_EXPIRED",
      { pending_id: p1.id ?? "" },
    );
    expect(await ledger.app.sweeper.runOnce()).toBe(2);
    expect(await ledger.app.sweeper.runOnce()).toBe(0);

    const expired = await ledger.client.getTransfer({ transferId: p1.id ?? "" });
    expect(expired.transfer).toMatchObject({
      status: TransferStatus.EXPIRED,
      resolvedById: expiryTransferId(p1.id ?? ""),
    });
    const theVoid = await ledger.client.getTransfer({ transferId: expiryTransferId(p1.id ?? "") });
    expect(theVoid.transfer).toMatchObject({
      status: TransferStatus.EXPIRED,
      amount: "30.00",
      pendingId: p1.id,
    });
    const posted = await ledger.client.getTransfer({ transferId: p3.id ?? "" });
    expect(posted.transfer?.status).toBe(TransferStatus.POSTED);
    const ra = (await ledger.client.getAccount({ accountId: a.id })).account;
    expect(ra?.balance).toMatchObject({ debitsPending: "0.00", debitsPosted: "10.00", available: "90.00" });

    const jsm = await jetstreamManager(ledger.nc);
    const stream = streamName("ledger", ledger.namespace);
    const subject = namespacedSubject("ledger.transfer.expired", ledger.namespace);
    await waitFor(async () => {
      const info = await jsm.streams.info(stream, { subjects_filter: subject });
      return (info.state.subjects?.[subject] ?? 0) === 2;
    });
    const msg = await jsm.streams.getMessage(stream, { last_by_subj: subject });
    const event = fromBinary(TransferExpiredSchema, msg?.data ?? new Uint8Array());
    expect([p1.id, p2.id]).toContain(event.transfer?.pendingId);
    expect((await ledger.client.checkIntegrity({})).ok).toBe(true);
  });

  test("the scheduled sweeper finds timed-out transfers by itself", async ({ ledger }) => {
    const a = await openAccount(ledger.client);
    const b = await openAccount(ledger.client);
    await fund(ledger.client, a, "5.00");
    const p = move(a, b, "5.00", { flags: { pending: true }, timeoutSeconds: 1 });
    await ledger.client.createTransfer({ transfer: p });
    const sweeper = createExpirySweeper({
      pool: ledger.pool,
      ledger: ledger.app.service,
      clock: ledger.clock,
      logger: pino({ level: "silent" }),
      metrics: ledgerMetrics(),
      intervalMs: 10,
    });
    sweeper.start();
    try {
      ledger.clock.advance(1_000);
      await waitFor(async () => {
        const t = await ledger.client.getTransfer({ transferId: p.id ?? "" });
        return t.transfer?.status === TransferStatus.EXPIRED;
      });
    } finally {
      await sweeper.stop();
    }
    const ra = (await ledger.client.getAccount({ accountId: a.id })).account;
    expect(ra?.balance?.available).toBe("5.00");
  });
});
