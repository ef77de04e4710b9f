import { parseRate } from "@fintech/money";
import type { TransactionEvent } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import { TransactionType } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import { describe, expect, test } from "vitest";
import { rowEventId } from "./import-rows.js";
import type { RowPublisher } from "./import-runner.js";
import { headerProblem, ReplaySchedule, runImport, textChunks } from "./import-runner.js";
import { staticRates } from "./rates.js";
import type { Timer } from "./timer.js";

const rates = staticRates(
  [
    { base: "SGD", quote: "MYR", rate: parseRate("3.50") },
    { base: "USD", quote: "MYR", rate: parseRate("4.70") },
  ],
  "MYR",
);

/** Virtual time: sleeping moves it forward at once. */
function fakeTimer() {
  let now = 0;
  const sleeps: number[] = [];
  const timer: Timer = {
    nowMs: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  };
  return { timer, sleeps, advance: (ms: number) => (now += ms) };
}

function collector() {
  const events: Array<{ id: string; event: TransactionEvent }> = [];
  const publisher: RowPublisher = {
    publish: async (id, _line, event) => {
      events.push({ id, event });
    },
    send: async () => {},
    flush: async () => {},
  };
  return { events, publisher };
}

const settings = {
  fileSha256: "ab".repeat(32),
  userId: "user-1",
  timezone: "UTC",
  baseCurrency: "MYR",
  replay: false,
  speed: 1,
};

const BAD_ROWS = [
  "timestamp,type,provider,amount,currency,sleep_ms",
  "2026-03-01T08:00:00Z,deposit,visa,100.00,MYR,",
  "2026-02-30T08:00:00Z,purchase,visa,10.00,,",
  "2026-03-01T09:00:00Z,purchase,visa,-5.00,,",
  "2026-03-01T10:00:00Z,purchase,visa,5.00,XYZ,",
  "2026-03-01T11:00:00Z,purchase,visa",
  "2026-03-01T12:00:00+08:00,withdrawal,WIRE,20.00,usd,",
  '"2026-03-01T13:00:00Z",purchase,"pay""pal",1.50,SGD,',
  "2026-03-01T14:00:00Z,refund,visa,2,JPY,",
  "2026-03-01T15:00:00Z,bonus,visa,2.00,,",
  "2026-03-01T16:00:00Z,purchase,visa,1.234,,",
  '2026-03-01T17:00:00Z,purchase,"visa\nplatinum",3.00,,',
  "yesterday,purchase,visa,1.00,,",
  "2026-03-01T18:00:00Z,purchase,visa,1.00,,abc",
  "2026-03-01T19:00:00Z,purchase,visa,1.00,,,extra",
  "2026-03-01T20:00:00Z,transfer,paypal,0,,",
].join("\r\n");

describe("importing a CSV", () => {
  test("reports every bad row with its line and reason and publishes the others", async () => {
    const { events, publisher } = collector();
    const { timer } = fakeTimer();
    const result = await runImport(textChunks(BAD_ROWS, 7), Buffer.byteLength(BAD_ROWS), settings, {
      publisher,
      rates,
      timer,
    });
    expect(result.errors.map((e) => [e.line, e.reason, e.column])).toEqual([
      [3, "BAD_DATE", "timestamp"],
      [4, "NEGATIVE_AMOUNT", "amount"],
      [5, "UNKNOWN_CURRENCY", "currency"],
      [6, "MISSING_COLUMN", "amount"],
      [9, "UNKNOWN_CURRENCY", "currency"],
      [10, "BAD_TYPE", "type"],
      [11, "BAD_AMOUNT", "amount"],
      [14, "BAD_DATE", "timestamp"],
      [15, "BAD_SLEEP_MS", "sleep_ms"],
      [16, "MALFORMED_ROW", undefined],
      [17, "BAD_AMOUNT", "amount"],
    ]);
    expect(result.errors[0]?.message).toBe(
      'timestamp "2026-02-30T08:00:00Z" is not a date such as 2026-03-01T08:00:00Z',
    );
    expect(result.errors[4]?.message).toBe("currency JPY is not supported (no rate to MYR)");
    expect(result).toMatchObject({
      rowsProcessed: 15,
      rowsImported: 4,
      rowsFailed: 11,
      bytesProcessed: result.bytesTotal,
    });
    expect(
      events.map(({ event: e }) => [
        e.type,
        e.provider,
        e.amount?.currency,
        e.amount?.amount,
        e.baseAmount?.amount,
        e.merchantCategory,
      ]),
    ).toEqual([
      [TransactionType.TOP_UP, "visa", "MYR", "100.00", "100.00", ""],
      [TransactionType.WITHDRAWAL, "wire", "USD", "20.00", "94.00", ""],
      [TransactionType.PURCHASE, 'pay"pal', "SGD", "1.50", "5.25", "uncategorized"],
      [TransactionType.PURCHASE, "visa\nplatinum", "MYR", "3.00", "3.00", "uncategorized"],
    ]);
    // 12:00 at +08:00 is 04:00 UTC.
    expect(Number(events[1]?.event.createdAt?.seconds)).toBe(Date.UTC(2026, 2, 1, 4) / 1000);
    expect(events.map((e) => e.id)).toEqual(
      [2, 7, 8, 12].map((line) => rowEventId(settings.fileSha256, "user-1", line)),
    );
  });

  test("a header without a required column imports nothing", async () => {
    const { events, publisher } = collector();
    const text = "timestamp,type,amount\n2026-03-01T08:00:00Z,deposit,1.00\n";
    const result = await runImport([text], text.length, settings, {
      publisher,
      rates,
      timer: fakeTimer().timer,
    });
    expect(result.fatal).toMatchObject({ line: 1, reason: "MISSING_COLUMN", column: "provider" });
    expect([result.rowsImported, events.length]).toEqual([0, 0]);
  });

  test("the aggregation service's header (payment_method, any case, spaces) and type words are read", async () => {
    const { events, publisher } = collector();
    const text =
      " Timestamp,TYPE , Payment_Method ,amount,sleep_ms\r\n2026-03-01 08:00:00,Deposits,PayPal,1.50,10\r\n" +
      "2026-03-01 09:00:00,withdrawals,wire,2.00,0\r\n2026-03-01 10:00:00, deposit ,visa,3.00,0\r\n";
    const result = await runImport([text], text.length, settings, {
      publisher,
      rates,
      timer: fakeTimer().timer,
    });
    expect([result.fatal, result.rowsImported, result.rowsFailed]).toEqual([undefined, 3, 0]);
    expect(events.map((e) => [e.event.type, e.event.provider, e.event.amount?.amount])).toEqual([
      [TransactionType.TOP_UP, "paypal", "1.50"],
      [TransactionType.WITHDRAWAL, "wire", "2.00"],
      [TransactionType.TOP_UP, "visa", "3.00"],
    ]);
  });

  test("headerProblem names the columns found and expected, and passes a header that works", () => {
    expect(headerProblem("timestamp,type,payment_method,amount\r\n")).toBeUndefined();
    expect(headerProblem("")).toMatchObject({ line: 1, reason: "MISSING_COLUMN" });
    const problem = headerProblem("when,kind,amount\n2026-03-01,deposit,1.00\n");
    expect(problem).toMatchObject({ line: 1, reason: "MISSING_COLUMN", column: "timestamp" });
    expect(problem?.message).toContain("no timestamp, type, provider columns: found when, kind, amount");
  });

  test("the same file for the same user gives the same event ids; another user's do not collide", () => {
    const a = rowEventId("f".repeat(64), "user-1", 2);
    expect(rowEventId("f".repeat(64), "user-1", 2)).toBe(a);
    expect(rowEventId("f".repeat(64), "user-2", 2)).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe("replay", () => {
  test("waits each row's timestamp gap, or its sleep_ms, divided by the speed", async () => {
    const { timer, sleeps } = fakeTimer();
    const schedule = new ReplaySchedule(60, timer);
    const t0 = Date.UTC(2026, 2, 1, 8);
    await schedule.due({ at: t0, sleepMs: undefined });
    await schedule.due({ at: t0 + 60_000, sleepMs: undefined });
    await schedule.due({ at: t0 + 30_000, sleepMs: undefined }); // out of order: no wait
    await schedule.due({ at: t0 + 90_000, sleepMs: 6_000 }); // sleep_ms wins over the timestamp
    expect(sleeps).toEqual([1000, 100]);
  });

  test("does not let waiting drift: a slow row is caught up by the next wait", async () => {
    const { timer, sleeps, advance } = fakeTimer();
    const schedule = new ReplaySchedule(1, timer);
    await schedule.due({ at: 0, sleepMs: undefined });
    await schedule.due({ at: 1000, sleepMs: undefined });
    advance(300); // publishing took 300 ms
    await schedule.due({ at: 2000, sleepMs: undefined });
    expect(sleeps).toEqual([1000, 700]);
  });
});
