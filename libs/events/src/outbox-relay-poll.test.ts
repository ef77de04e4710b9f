// The relay's poll on an outbox of its own file's schema: what an idle relay sends Postgres, and what a poll
// that finds rows waiting does.
import { create } from "@bufbuild/protobuf";
import { StringValueSchema } from "@bufbuild/protobuf/wkt";
import { withTransaction } from "@fintech/db";
import { waitFor } from "@fintech/testing";
import { expect } from "vitest";
import { enqueue } from "./enqueue.js";
import { ensureStream } from "./ensure-stream.js";
import { createOutboxRelay } from "./outbox-relay.js";
import { captureLogs, recordingPool, test } from "./test/harness.js";

test("an idle relay's poll sends one statement, and claims once rows wait", async ({ events }) => {
  const { pg: db, nats } = events;
  const ctx = "polled";
  await ensureStream(nats.nc, { context: ctx, namespace: nats.namespace });
  const { pool, sent } = recordingPool(db.url, db.schema);
  const { logger, registry } = captureLogs();
  const relay = createOutboxRelay({
    pool,
    nc: nats.nc,
    source: ctx,
    namespace: nats.namespace,
    logger,
    registry,
    pollIntervalMs: 100,
  });
  relay.start();
  try {
    const counts = () => sent.filter((text) => /SELECT count\(\*\)/.test(text)).length;
    // The pass start() runs (a claim, the gauges, the cleanup) ends before the first poll: from the second count
    // on, only polls send.
    await waitFor(() => counts() >= 2);
    sent.length = 0;
    await waitFor(() => sent.length >= 5, { timeoutMs: 3000 });
    // Five polls of an empty outbox: each only counted what waits, none opened a transaction to claim.
    expect(sent.filter((text) => /FOR UPDATE SKIP LOCKED|^\s*BEGIN/i.test(text))).toEqual([]);
    expect(counts()).toBe(sent.length);

    // A row committed through another pool wakes no relay here: the next poll finds it waiting and publishes it.
    const id = await withTransaction(db.pool, (tx) =>
      enqueue(tx, {
        type: `${ctx}.thing.happened`,
        schema: StringValueSchema,
        message: create(StringValueSchema, { value: "found by the poll" }),
      }),
    );
    // Published, and so deleted.
    await waitFor(
      async () => (await db.pool.query("SELECT 1 FROM outbox WHERE id = $1", [id])).rowCount === 0,
      {
        timeoutMs: 3000,
      },
    );
    expect(sent.some((text) => /FOR UPDATE SKIP LOCKED/.test(text))).toBe(true);
  } finally {
    await relay.stop();
    await pool.end();
  }
});
