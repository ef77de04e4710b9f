import { withTransaction } from "@fintech/db";
import { describe, expect } from "vitest";
import { inboxOpening, recordedInInbox } from "./inbox.js";
import { test } from "./test/harness.js";

/**
 * Records `ids` for `consumer` the way a consumer's transaction does; returns the ids new to the inbox, and
 * whether the insert went with BEGIN.
 */
async function record(pool: Parameters<typeof withTransaction>[0], consumer: string, ids: string[]) {
  return withTransaction(
    pool,
    async (tx, opened) => ({
      fresh: [...(await recordedInInbox(tx, consumer, ids, opened))].sort(),
      withBegin: opened !== undefined,
    }),
    { opening: inboxOpening(consumer, ids) },
  );
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
    expect(inboxOpening("consumer-c", ["plain", ...odd.slice(0, 1)])).toBeUndefined();
    expect(inboxOpening("it's", ["plain"])).toBeUndefined();
    expect(await record(events.pg.pool, "consumer-c", odd)).toEqual({
      fresh: [...odd].sort(),
      withBegin: false,
    });
    expect(await record(events.pg.pool, "consumer-c", odd)).toEqual({ fresh: [], withBegin: false });
  });
});
