import { randomUUID } from "node:crypto";
import { fromBinary } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { namespacedSubject, streamName } from "@fintech/events";
import { TransferPostedSchema } from "@fintech/proto/fintech/ledger/v1/events_pb.js";
import { RefusalReason, TransferSide, TransferStatus } from "@fintech/proto/fintech/ledger/v1/ledger_pb.js";
import { waitFor } from "@fintech/testing";
import { jetstreamManager } from "@nats-io/jetstream";
import { describe, expect } from "vitest";
import {
  expectRefusal,
  fund,
  ledgerTest,
  move,
  openAccount,
  publishedCount,
  settlement,
} from "./test/harness.js";

const test = ledgerTest();

describe("single-phase transfers", () => {
  test("moves money and keeps both sides' balances", async ({ ledger }) => {
    const a = await openAccount(ledger.client);
    const b = await openAccount(ledger.client);
    await fund(ledger.client, a, "500.00");
    // Stored exactly, whatever the characters (they travel inside Postgres array literals).
    const odd = 'a "quoted", {braced} \\ back\\slash NULL ü';
    const t = move(a, b, "120.50", { code: 3, reference: "order-1", description: odd, userData: { k: odd } });
    const { transfer, replayed } = await ledger.client.createTransfer({ transfer: t });
    expect(replayed).toBe(false);
    expect(transfer).toMatchObject({
      id: t.id,
      debitAccountId: a.id,
      creditAccountId: b.id,
      amount: "120.50",
      currency: "MYR",
      code: 3,
      reference: "order-1",
      description: odd,
      userData: { k: odd },
      status: TransferStatus.POSTED,
    });
    const ra = (await ledger.client.getAccount({ accountId: a.id })).account;
    const rb = (await ledger.client.getAccount({ accountId: b.id })).account;
    expect(ra?.balance).toMatchObject({
      debitsPosted: "120.50",
      creditsPosted: "500.00",
      available: "379.50",
    });
    expect(rb?.balance).toMatchObject({ creditsPosted: "120.50", available: "120.50" });
    const got = await ledger.client.getTransfer({ transferId: t.id ?? "" });
    expect(got.transfer).toMatchObject({
      id: t.id,
      amount: "120.50",
      description: odd,
      userData: { k: odd },
      status: TransferStatus.POSTED,
    });
  });

  test("refuses with typed reasons", async ({ ledger }) => {
    const a = await openAccount(ledger.client);
    const b = await openAccount(ledger.client);
    const sgd = await openAccount(ledger.client, { currency: "SGD" });
    const capped = await openAccount(ledger.client, { limited: false, creditLimited: true });
    await fund(ledger.client, a, "10.00");
    const c = ledger.client;

    await expectRefusal(
      c.createTransfer({ transfer: move(a, b, "10.01") }),
      Code.FailedPrecondition,
      "INSUFFICIENT_FUNDS",
      {
        account_id: a.id,
        available: "10.00",
        requested: "10.01",
      },
    );
    const ghost = { ...b, id: randomUUID() };
    await expectRefusal(
      c.createTransfer({ transfer: move(a, ghost, "1.00") }),
      Code.NotFound,
      "ACCOUNT_NOT_FOUND",
      {
        account_id: ghost.id,
        field: "credit_account_id",
      },
    );
    await expectRefusal(
      c.createTransfer({ transfer: move(a, sgd, "1.00") }),
      Code.FailedPrecondition,
      "CURRENCY_MISMATCH",
      { account_id: sgd.id, account_currency: "SGD", currency: "MYR" },
    );
    await expectRefusal(
      c.createTransfer({ transfer: move(a, a, "1.00") }),
      Code.InvalidArgument,
      "SAME_ACCOUNT",
    );
    await expectRefusal(
      c.createTransfer({ transfer: move(a, capped, "1.00") }),
      Code.FailedPrecondition,
      "CREDITS_EXCEED_DEBITS",
      { account_id: capped.id, available: "0.00", requested: "1.00" },
    );
    await expectRefusal(
      c.createTransfer({ transfer: move(a, b, "1.001") }),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
      { field: "transfer.amount" },
    );
    await expectRefusal(
      c.createTransfer({ transfer: move(a, b, "0") }),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
      {
        field: "transfer.amount",
      },
    );
    // Nothing of the refused transfers moved money.
    const ra = (await c.getAccount({ accountId: a.id })).account;
    expect(ra?.balance).toMatchObject({ debitsPosted: "0.00", available: "10.00" });
  });

  test("the same id with the same fields is one transfer; with other fields it is refused", async ({
    ledger,
  }) => {
    const a = await openAccount(ledger.client);
    const b = await openAccount(ledger.client);
    await fund(ledger.client, a, "10.00");
    const t = move(a, b, "3.00", { userData: { order: "o1" } });
    const first = await ledger.client.createTransfer({ transfer: t });
    const again = await ledger.client.createTransfer({ transfer: { ...t, id: (t.id ?? "").toUpperCase() } });
    expect(again.replayed).toBe(true);
    expect(again.transfer?.createdAt).toEqual(first.transfer?.createdAt);
    await expectRefusal(
      ledger.client.createTransfer({ transfer: { ...t, amount: "4.00" } }),
      Code.AlreadyExists,
      "EXISTS_WITH_DIFFERENT_FIELDS",
      { transfer_id: t.id ?? "", field: "amount" },
    );
    await expectRefusal(
      ledger.client.createTransfer({ transfer: { ...t, userData: {} } }),
      Code.AlreadyExists,
      "EXISTS_WITH_DIFFERENT_FIELDS",
      { field: "user_data" },
    );
    // A retry answers as the original did even when the transfer could not be made again now.
    await ledger.client.createTransfer({ transfer: move(a, b, "7.00") });
    const late = await ledger.client.createTransfers({ transfers: [t, move(a, b, "0.01")] });
    expect(late.results[0]).toMatchObject({ replayed: true, outcome: { case: "transfer" } });
    expect(late.results[1]?.outcome.case).toBe("refusal");
    const ra = (await ledger.client.getAccount({ accountId: a.id })).account;
    expect(ra?.balance?.debitsPosted).toBe("10.00");
  });
});

describe("batches and linked chains", () => {
  test("a batch answers each transfer on its own, in order", async ({ ledger }) => {
    const a = await openAccount(ledger.client);
    const b = await openAccount(ledger.client);
    await fund(ledger.client, a, "5.00");
    const { results } = await ledger.client.createTransfers({
      transfers: [move(a, b, "3.00"), move(a, b, "3.00"), move(a, b, "2.00")],
    });
    expect(results.map((r) => r.outcome.case)).toEqual(["transfer", "refusal", "transfer"]);
    const refused = results[1]?.outcome;
    expect(refused?.case === "refusal" && refused.value).toMatchObject({
      reason: RefusalReason.INSUFFICIENT_FUNDS,
      details: { available: "2.00", requested: "3.00" },
    });
    const ra = (await ledger.client.getAccount({ accountId: a.id })).account;
    expect(ra?.balance?.available).toBe("0.00");
  });

  test("a linked chain succeeds or fails as a whole", async ({ ledger }) => {
    const a = await openAccount(ledger.client);
    const b = await openAccount(ledger.client);
    const c = await openAccount(ledger.client);
    await fund(ledger.client, a, "5.00");
    const failed = await ledger.client.createTransfers({
      transfers: [
        move(a, b, "4.00", { flags: { linked: true } }),
        move(b, c, "4.00", { flags: { linked: true } }),
        move(a, c, "4.00"), // a has only 1.00 left after the first: the whole chain fails
        move(a, c, "1.00"),
      ],
    });
    const reasons = failed.results.map((r) => (r.outcome.case === "refusal" ? r.outcome.value.reason : "ok"));
    expect(reasons).toEqual([
      RefusalReason.LINKED_EVENT_FAILED,
      RefusalReason.LINKED_EVENT_FAILED,
      RefusalReason.INSUFFICIENT_FUNDS,
      "ok",
    ]);
    const balances = await Promise.all([a, b, c].map((x) => ledger.client.getAccount({ accountId: x.id })));
    expect(balances.map((r) => r.account?.balance?.available)).toEqual(["4.00", "0.00", "1.00"]);

    const ok = await ledger.client.createTransfers({
      transfers: [move(a, b, "4.00", { flags: { linked: true } }), move(b, c, "4.00")],
    });
    expect(ok.results.every((r) => r.outcome.case === "transfer")).toBe(true);
    await expectRefusal(
      ledger.client.createTransfers({ transfers: [move(a, b, "1.00", { flags: { linked: true } })] }),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
      { field: "transfers[0].flags.linked" },
    );
  });
});

describe("two-phase transfers", () => {
  test("pending reserves, a partial post moves part and releases the rest", async ({ ledger }) => {
    const a = await openAccount(ledger.client);
    const b = await openAccount(ledger.client);
    await fund(ledger.client, a, "100.00");
    const hold = move(a, b, "60.00", { flags: { pending: true } });
    const pending = await ledger.client.createTransfer({ transfer: hold });
    expect(pending.transfer?.status).toBe(TransferStatus.PENDING);
    let ra = (await ledger.client.getAccount({ accountId: a.id })).account;
    expect(ra?.balance).toMatchObject({ debitsPending: "60.00", available: "40.00" });
    await expectRefusal(
      ledger.client.createTransfer({ transfer: move(a, b, "40.01") }),
      Code.FailedPrecondition,
      "INSUFFICIENT_FUNDS",
    );

    const pendingId = hold.id ?? "";
    await expectRefusal(
      ledger.client.createTransfer({
        transfer: {
          id: randomUUID(),
          pendingId,
          amount: "60.01",
          currency: "MYR",
          flags: { postPending: true },
        },
      }),
      Code.FailedPrecondition,
      "AMOUNT_EXCEEDS_PENDING",
      { pending_amount: "60.00", requested: "60.01" },
    );
    await expectRefusal(
      ledger.client.createTransfer({
        transfer: { id: randomUUID(), pendingId, creditAccountId: a.id, flags: { postPending: true } },
      }),
      Code.FailedPrecondition,
      "PENDING_MISMATCH",
      { field: "credit_account_id" },
    );
    const postId = randomUUID();
    const post = await ledger.client.createTransfer({
      transfer: { id: postId, pendingId, amount: "45.00", currency: "MYR", flags: { postPending: true } },
    });
    expect(post.transfer).toMatchObject({
      amount: "45.00",
      pendingAmount: "60.00",
      debitAccountId: a.id,
      creditAccountId: b.id,
      status: TransferStatus.POSTED,
    });
    ra = (await ledger.client.getAccount({ accountId: a.id })).account;
    expect(ra?.balance).toMatchObject({ debitsPending: "0.00", debitsPosted: "45.00", available: "55.00" });
    const rb = (await ledger.client.getAccount({ accountId: b.id })).account;
    expect(rb?.balance).toMatchObject({ creditsPending: "0.00", creditsPosted: "45.00" });
    const original = await ledger.client.getTransfer({ transferId: pendingId });
    expect(original.transfer).toMatchObject({ status: TransferStatus.POSTED, resolvedById: postId });

    await expectRefusal(
      ledger.client.createTransfer({
        transfer: { id: randomUUID(), pendingId, flags: { voidPending: true } },
      }),
      Code.FailedPrecondition,
      "PENDING_ALREADY_RESOLVED",
      { pending_id: pendingId, resolved_by_id: postId, status: "posted" },
    );
    // Retrying the post itself is a replay, not a second resolution.
    const retried = await ledger.client.createTransfer({
      transfer: { id: postId, pendingId, amount: "45.00", currency: "MYR", flags: { postPending: true } },
    });
    expect(retried.replayed).toBe(true);
  });

  test("a void releases everything; an unknown pending id is refused", async ({ ledger }) => {
    const a = await openAccount(ledger.client);
    const b = await openAccount(ledger.client);
    await fund(ledger.client, a, "10.00");
    const hold = move(a, b, "10.00", { flags: { pending: true } });
    await ledger.client.createTransfer({ transfer: hold });
    const voided = await ledger.client.createTransfer({
      transfer: { id: randomUUID(), pendingId: hold.id ?? "", flags: { voidPending: true } },
    });
    expect(voided.transfer).toMatchObject({ amount: "10.00", status: TransferStatus.VOIDED });
    const ra = (await ledger.client.getAccount({ accountId: a.id })).account;
    expect(ra?.balance).toMatchObject({ debitsPending: "0.00", debitsPosted: "0.00", available: "10.00" });
    const missing = randomUUID();
    await expectRefusal(
      ledger.client.createTransfer({
        transfer: { id: randomUUID(), pendingId: missing, flags: { postPending: true } },
      }),
      Code.NotFound,
      "PENDING_NOT_FOUND",
      { pending_id: missing },
    );
  });

  test("a pending transfer created and posted in one batch", async ({ ledger }) => {
    const a = await openAccount(ledger.client);
    const b = await openAccount(ledger.client);
    await fund(ledger.client, a, "10.00");
    const hold = move(a, b, "7.00", { flags: { pending: true } });
    const { results } = await ledger.client.createTransfers({
      transfers: [hold, { id: randomUUID(), pendingId: hold.id ?? "", flags: { postPending: true } }],
    });
    const first = results[0]?.outcome;
    expect(first?.case === "transfer" && first.value.status).toBe(TransferStatus.POSTED);
    const rb = (await ledger.client.getAccount({ accountId: b.id })).account;
    expect(rb?.balance).toMatchObject({ creditsPending: "0.00", creditsPosted: "7.00" });
  });
});

describe("history", () => {
  test("balance at a point in time and the account's transfers, paged", async ({ ledger }) => {
    const a = await openAccount(ledger.client);
    const b = await openAccount(ledger.client);
    const t0 = ledger.clock.now();
    await fund(ledger.client, a, "50.00");
    const ids: string[] = [];
    for (let i = 1; i <= 5; i++) {
      ledger.clock.advance(60_000);
      const t = move(a, b, `${i}.00`, { reference: i % 2 === 0 ? "even" : "odd" });
      await ledger.client.createTransfer({ transfer: t });
      ids.push(t.id ?? "");
    }
    const before = await ledger.client.getBalanceAt({
      accountId: a.id,
      at: timestampFromDate(new Date(t0.getTime() - 1)),
    });
    expect(before).toMatchObject({ lastTransferId: "", balance: { creditsPosted: "0.00" } });
    const afterTwo = await ledger.client.getBalanceAt({
      accountId: a.id,
      at: timestampFromDate(new Date(t0.getTime() + 2 * 60_000 + 1)),
    });
    expect(afterTwo).toMatchObject({
      lastTransferId: ids[1],
      balance: { creditsPosted: "50.00", debitsPosted: "3.00", available: "47.00" },
    });
    const now = await ledger.client.getBalanceAt({ accountId: b.id });
    expect(now.balance?.creditsPosted).toBe("15.00");

    const page1 = await ledger.client.listAccountTransfers({ accountId: a.id, limit: 4 });
    expect(page1.data.map((t) => t.id)).toEqual([...ids].reverse().slice(0, 4));
    expect(page1.hasMore).toBe(true);
    const page2 = await ledger.client.listAccountTransfers({
      accountId: a.id,
      limit: 4,
      cursor: page1.nextCursor,
    });
    expect(page2.data).toHaveLength(2); // the last payment and the funding
    expect(page2.hasMore).toBe(false);

    const credits = await ledger.client.listAccountTransfers({ accountId: a.id, side: TransferSide.CREDIT });
    expect(credits.data).toHaveLength(1);
    const even = await ledger.client.listAccountTransfers({
      accountId: a.id,
      reference: "even",
      oldestFirst: true,
    });
    expect(even.data.map((t) => t.id)).toEqual([ids[1], ids[3]]);
    const window = await ledger.client.listAccountTransfers({
      accountId: b.id,
      fromTime: timestampFromDate(new Date(t0.getTime() + 2 * 60_000)),
      toTime: timestampFromDate(new Date(t0.getTime() + 4 * 60_000)),
      oldestFirst: true,
    });
    expect(window.data.map((t) => t.amount)).toEqual(["2.00", "3.00"]);
    expect(window.data.every((t) => t.createdAt && timestampDate(t.createdAt) >= t0)).toBe(true);
    await expectRefusal(
      ledger.client.listAccountTransfers({ accountId: a.id, cursor: "garbage" }),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
      { field: "cursor" },
    );
  });

  test("transfers are immutable in the database itself", async ({ ledger }) => {
    const a = await openAccount(ledger.client);
    const b = await openAccount(ledger.client);
    await fund(ledger.client, a, "5.00");
    const t = move(a, b, "1.00");
    await ledger.client.createTransfer({ transfer: t });
    await expect(ledger.pool.query("UPDATE transfers SET amount = 1 WHERE id = $1", [t.id])).rejects.toThrow(
      /transfers are immutable/,
    );
    await expect(ledger.pool.query("DELETE FROM transfers WHERE id = $1", [t.id])).rejects.toThrow(
      /transfers are immutable/,
    );
    await expect(ledger.pool.query("TRUNCATE transfers")).rejects.toThrow(/transfers are immutable/);
    await expectRefusal(
      ledger.client.getTransfer({ transferId: randomUUID() }),
      Code.NotFound,
      "TRANSFER_NOT_FOUND",
    );
  });

  test("publishes ledger.transfer.* events through the outbox", async ({ ledger }) => {
    const a = await openAccount(ledger.client);
    const b = await openAccount(ledger.client);
    await fund(ledger.client, a, "5.00");
    const t = move(a, b, "1.25");
    await ledger.client.createTransfer({ transfer: t });
    const hold = move(a, b, "1.00", { flags: { pending: true } });
    await ledger.client.createTransfer({ transfer: hold });
    await ledger.client.createTransfer({
      transfer: { id: randomUUID(), pendingId: hold.id ?? "", flags: { voidPending: true } },
    });

    const jsm = await jetstreamManager(ledger.nc);
    const stream = streamName("ledger", ledger.namespace);
    const subject = (s: string) => namespacedSubject(s, ledger.namespace);
    const counts = await waitFor(async () => {
      const info = await jsm.streams.info(stream, { subjects_filter: ">" });
      const subjects = info.state.subjects ?? {};
      return (subjects[subject("ledger.transfer.voided")] ?? 0) >= 1 ? subjects : undefined;
    });
    expect(counts[subject("ledger.transfer.pending")]).toBeGreaterThanOrEqual(1);
    expect(counts[subject("ledger.transfer.posted")]).toBeGreaterThanOrEqual(2);
    // The outbox row is written in the transfer's transaction: exactly one event per transfer.
    const { rows } = await ledger.pool.query<{ n: number }>("SELECT count(*)::int4 AS n FROM transfers");
    expect(await publishedCount(ledger, "ledger.transfer.")).toBe(rows[0]?.n);

    const last = await jsm.streams.getMessage(stream, { last_by_subj: subject("ledger.transfer.posted") });
    const event = fromBinary(TransferPostedSchema, last?.data ?? new Uint8Array());
    expect(event.transfer?.currency).toBe("MYR");
    expect(last?.header.get("ce-type")).toBe("ledger.transfer.posted");
    const world = await settlement(ledger.client);
    expect(world.balance?.available.startsWith("-")).toBe(true);
  });
});
