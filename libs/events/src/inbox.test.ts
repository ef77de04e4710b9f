import { withTransaction } from "@fintech/db";
import { describe, expect } from "vitest";
import type { InboxEntry } from "./inbox.js";
import { inboxOpening, recordedInInbox, recordInInbox } from "./inbox.js";
import { test } from "./test/harness.js";

type Pool = Parameters<typeof withTransaction>[0];

/**
 * Records `entries` the way a consumer's transaction does; returns the entries new to the inbox (as
 * "consumer/id"), and whether the insert went with BEGIN.
 */
async function recordEntries(pool: Pool, entries: InboxEntry[]) {
  return withTransaction(
    pool,
    async (tx, opened) => ({
      fresh: [...(await recordedInInbox(tx, entries, opened))].map((key) => key.replace("\n", "/")).sort(),
      withBegin: opened !== undefined,
    }),
    { opening: inboxOpening(entries) },
  );
}

/** {@link recordEntries} for one consumer: the fresh entries as ids. */
async function record(pool: Pool, consumer: string, ids: string[]) {
  const { fresh, withBegin } = await recordEntries(
    pool,
    ids.map((eventId) => ({ consumer, eventId })),
  );
  return { fresh: fresh.map((key) => key.slice(consumer.length + 1)).sort(), withBegin };
}

describe("inbox", () => {
  test("plain ids are recorded with BEGIN in one message, each once; a repeat finds them recorded", async ({
    events,
  }) => {
    const ids = ["0193a6f0-1111-7000-8000-000000000001", "null", "ev:2.b_c-d"];
    expect(await record(events.pg.pool, "consumer-a", [...ids, ids[0] as string])).toEqual({
      fresh: [...ids].sort(),
      withBegin: true,
    });
    expect(await record(events.pg.pool, "consumer-a", ids)).toEqual({ fresh: [], withBegin: true });
    // Another consumer's inbox is its own.
    expect((await record(events.pg.pool, "consumer-b", ids.slice(0, 1))).fresh).toEqual(ids.slice(0, 1));
    const { rows } = await events.pg.pool.query<{ event_id: string | null }>(
      "SELECT event_id FROM inbox WHERE consumer = 'consumer-a' ORDER BY event_id",
    );
    expect(rows.map((r) => r.event_id)).toEqual([...ids].sort());
  });

  test("an id that is not a plain word is never written into SQL: it goes as a parameter", async ({
    events,
  }) => {
    const odd = ["it's", 'quo"te', "back\\slash", "two words", "{braces}", "comma,"];
    const entries = (consumer: string, ids: string[]) => ids.map((eventId) => ({ consumer, eventId }));
    expect(inboxOpening(entries("consumer-c", ["plain", ...odd.slice(0, 1)]))).toBeUndefined();
    expect(inboxOpening(entries("it's", ["plain"]))).toBeUndefined();
    expect(await record(events.pg.pool, "consumer-c", odd)).toEqual({
      fresh: [...odd].sort(),
      withBegin: false,
    });
    expect(await record(events.pg.pool, "consumer-c", odd)).toEqual({ fresh: [], withBegin: false });
  });

  test("one statement records the rows of several consumers, each consumer's rows its own", async ({
    events,
  }) => {
    const pool = events.pg.pool;
    expect((await record(pool, "mails", ["e1"])).fresh).toEqual(["e1"]);
    // e1 was mailed before; now one delivery carries it for mails and webhooks, and e2 for both.
    const both = ["e1", "e2"].flatMap((eventId) => [
      { consumer: "mails", eventId },
      { consumer: "webhooks", eventId },
    ]);
    expect(await recordEntries(pool, both)).toEqual({
      fresh: ["mails/e2", "webhooks/e1", "webhooks/e2"],
      withBegin: true,
    });
    expect((await recordEntries(pool, both)).fresh).toEqual([]);
    // The single-consumer form, as analytics uses it, reads the same rows.
    expect([...(await recordInInbox(pool, "webhooks", ["e2", "e3"]))]).toEqual(["e3"]);
  });
});
