import { fromBinary } from "@bufbuild/protobuf";
import { namespacedSubject, streamName } from "@fintech/events";
import { IntegrityViolatedSchema } from "@fintech/proto/fintech/ledger/v1/events_pb.js";
import { IntegrityViolationKind } from "@fintech/proto/fintech/ledger/v1/ledger_pb.js";
import { waitFor } from "@fintech/testing";
import { jetstreamManager } from "@nats-io/jetstream";
import { register } from "prom-client";
import { describe, expect } from "vitest";
import { fund, ledgerTest, move, openAccount } from "./test/harness.js";

// This file corrupts its own schema on purpose, so it has a file (and a schema) of its own.
const test = ledgerTest();

async function violationsCounted(): Promise<number> {
  const metric = await register.getSingleMetric("ledger_integrity_violations_total")?.get();
  return (metric?.values ?? []).reduce((n, v) => n + v.value, 0);
}

describe("integrity", () => {
  test("a consistent book passes, with per-currency totals", async ({ ledger }) => {
    const a = await openAccount(ledger.client);
    const b = await openAccount(ledger.client, { currency: "SGD" });
    const c = await openAccount(ledger.client, { currency: "SGD" });
    await fund(ledger.client, a, "12.34");
    await fund(ledger.client, b, "5.00");
    await ledger.client.createTransfer({ transfer: move(b, c, "2.00", { flags: { pending: true } }) });
    const report = await ledger.client.checkIntegrity({});
    expect(report.ok).toBe(true);
    expect(report.violations).toEqual([]);
    expect(report.accountsChecked).toBe(5n); // three accounts and two settlement accounts
    expect(report.transfersChecked).toBe(3n);
    expect(report.totals).toEqual([
      expect.objectContaining({ currency: "MYR", debitsPosted: "12.34", creditsPosted: "12.34" }),
      expect.objectContaining({ currency: "SGD", debitsPending: "2.00", creditsPending: "2.00" }),
    ]);
  });

  test("a balance changed behind the ledger's back is reported loudly: result, metric and event", async ({
    ledger,
  }) => {
    const a = await openAccount(ledger.client, { limited: false });
    await fund(ledger.client, a, "1.00");
    const before = await violationsCounted();
    // What a buggy or malicious writer could do: balances are not protected by a trigger, the check is.
    await ledger.pool.query("UPDATE accounts SET credits_posted = credits_posted + 1 WHERE id = $1", [a.id]);

    const report = await ledger.client.checkIntegrity({});
    expect(report.ok).toBe(false);
    const kinds = report.violations.map((v) => v.kind);
    expect(kinds).toContain(IntegrityViolationKind.CURRENCY_UNBALANCED);
    expect(kinds).toContain(IntegrityViolationKind.BALANCE_MISMATCH);
    expect(report.violations.find((v) => v.kind === IntegrityViolationKind.BALANCE_MISMATCH)).toMatchObject({
      accountId: a.id,
      currency: "MYR",
    });
    expect(await violationsCounted()).toBe(before + report.violations.length);

    const jsm = await jetstreamManager(ledger.nc);
    const stream = streamName("ledger", ledger.namespace);
    const subject = namespacedSubject("ledger.integrity.violated", ledger.namespace);
    const msg = await waitFor(async () => {
      const info = await jsm.streams.info(stream, { subjects_filter: subject });
      if ((info.state.subjects?.[subject] ?? 0) === 0) return undefined;
      return jsm.streams.getMessage(stream, { last_by_subj: subject });
    });
    const event = fromBinary(IntegrityViolatedSchema, msg?.data ?? new Uint8Array());
    expect(event.violations.length).toBe(report.violations.length);
    await ledger.pool.query("UPDATE accounts SET credits_posted = credits_posted - 1 WHERE id = $1", [a.id]);
    expect((await ledger.client.checkIntegrity({})).ok).toBe(true);
  });
});
