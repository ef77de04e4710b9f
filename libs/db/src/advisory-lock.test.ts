import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { withAdvisoryLock } from "./advisory-lock.js";
import { tryAdvisoryXactLock } from "./advisory-xact-lock.js";
import { createPool } from "./create-pool.js";
import { createExclusiveJob } from "./exclusive-job.js";
import { adminQuery, databaseUrl, dropSchemas, scratchSchemaName, until } from "./test/scratch.js";
import { withTransaction } from "./with-transaction.js";

const schema = scratchSchemaName();
const otherSchema = scratchSchemaName();
// Two replicas of one service (one schema), and a service of its own (another schema) on the same database.
const replicaA = createPool({ url: databaseUrl, schema, max: 4, applicationName: `${schema} a` });
const replicaB = createPool({ url: databaseUrl, schema, max: 4, applicationName: `${schema} b` });
const elsewhere = createPool({ url: databaseUrl, schema: otherSchema, max: 2 });

beforeAll(async () => {
  await adminQuery(`CREATE SCHEMA ${schema}`);
  await adminQuery(`CREATE SCHEMA ${otherSchema}`);
  await replicaA.query(
    "CREATE TABLE items (id int4 PRIMARY KEY, due boolean NOT NULL, done_count int4 NOT NULL)",
  );
});

afterAll(async () => {
  try {
    await Promise.all([replicaA.end(), replicaB.end(), elsewhere.end()]);
  } finally {
    await dropSchemas([schema, otherSchema]);
  }
});

/** Ends the sessions of `applicationName` that hold an advisory lock, as a dead connection would. */
async function killLockHolder(applicationName: string): Promise<number> {
  const { rows } = await adminQuery<{ pid: number }>(
    `SELECT pg_terminate_backend(l.pid) AS ok, l.pid FROM pg_locks l JOIN pg_stat_activity a USING (pid)
      WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = $1`,
    [applicationName],
  );
  return rows.length;
}

describe("withAdvisoryLock", () => {
  test("one holder at a time: another replica is turned away while it runs, and takes it afterwards", async () => {
    const outcome = await withAdvisoryLock(replicaA, "job", async () => {
      const meanwhile = await withAdvisoryLock(replicaB, "job", async () => "b ran");
      // Another job's lock, and the same name in another service's schema, are other locks.
      const otherJob = await withAdvisoryLock(replicaB, "other-job", async () => "other ran");
      const otherService = await withAdvisoryLock(elsewhere, "job", async () => "elsewhere ran");
      return { meanwhile, otherJob, otherService };
    });
    expect(outcome).toEqual({
      acquired: true,
      value: {
        meanwhile: { acquired: false },
        otherJob: { acquired: true, value: "other ran" },
        otherService: { acquired: true, value: "elsewhere ran" },
      },
    });
    expect(await withAdvisoryLock(replicaB, "job", async () => "b ran")).toEqual({
      acquired: true,
      value: "b ran",
    });
  });

  test("a failing job's error reaches the caller and the lock is free again", async () => {
    const failure = new Error("pass failed");
    await expect(
      withAdvisoryLock(replicaA, "job", async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect((await withAdvisoryLock(replicaB, "job", async () => 1)).acquired).toBe(true);
  });

  test("when the holder's connection dies its work is told, and another replica takes the lock", async () => {
    let told: unknown;
    let held: () => void = () => {};
    const holds = new Promise<void>((resolve) => {
      held = resolve;
    });
    const holding = withAdvisoryLock(replicaA, "job", async ({ signal }) => {
      held();
      await new Promise<void>((resolve) => {
        signal.addEventListener("abort", () => resolve(), { once: true });
      });
      told = signal.reason;
      return "stopped";
    });
    await holds;
    // Until the holder's connection is gone, nobody else gets the lock.
    expect((await withAdvisoryLock(replicaB, "job", async () => true)).acquired).toBe(false);
    expect(await killLockHolder(`${schema} a`)).toBe(1);
    expect(await holding).toEqual({ acquired: true, value: "stopped" });
    expect(told).toBeInstanceOf(Error);
    expect(await withAdvisoryLock(replicaB, "job", async () => "taken over")).toEqual({
      acquired: true,
      value: "taken over",
    });
    // The replica whose connection died goes on working with a fresh one.
    expect((await withAdvisoryLock(replicaA, "job", async () => true)).acquired).toBe(true);
  });
});

describe("tryAdvisoryXactLock", () => {
  test("is held until the transaction ends, and shares withAdvisoryLock's names", async () => {
    await withTransaction(replicaA, async (tx) => {
      expect(await tryAdvisoryXactLock(tx, "job")).toBe(true);
      expect(await withTransaction(replicaB, (other) => tryAdvisoryXactLock(other, "job"))).toBe(false);
      expect((await withAdvisoryLock(replicaB, "job", async () => true)).acquired).toBe(false);
    });
    expect(await withTransaction(replicaB, (tx) => tryAdvisoryXactLock(tx, "job"))).toBe(true);
  });
});

describe("createExclusiveJob", () => {
  test("two replicas' schedules never overlap, each due item is done once, and the survivor carries on", async () => {
    await replicaA.query(
      "INSERT INTO items SELECT i, true, 0 FROM generate_series(1, 60) AS i ON CONFLICT (id) DO NOTHING",
    );
    let running = 0;
    let overlapped = false;
    const failures: unknown[] = [];
    const passes = { a: 0, b: 0 };
    // A pass that would count items twice if two ran at once: it reads what is due, then marks it, unlocked.
    const job = (pool: typeof replicaA, who: "a" | "b") =>
      createExclusiveJob({
        pool,
        name: "items",
        intervalMs: 5,
        onError: (err) => failures.push(err),
        run: async () => {
          running++;
          if (running > 1) overlapped = true;
          try {
            const { rows } = await pool.query<{ id: number }>(
              "SELECT id FROM items WHERE due ORDER BY id LIMIT 7",
            );
            if (rows.length > 0) passes[who]++;
            for (const { id } of rows) {
              await pool.query("UPDATE items SET due = false, done_count = done_count + 1 WHERE id = $1", [
                id,
              ]);
            }
          } finally {
            running--;
          }
        },
      });
    const a = job(replicaA, "a");
    const b = job(replicaB, "b");
    a.start();
    b.start();
    const doneCounts = async () =>
      (await replicaA.query<{ done_count: number }>("SELECT done_count FROM items ORDER BY id")).rows.map(
        (r) => r.done_count,
      );
    try {
      await until(async () => (await doneCounts()).every((n) => n > 0));
      expect(await doneCounts()).toEqual(Array.from({ length: 60 }, () => 1));
      expect(overlapped).toBe(false);

      await a.stop();
      const before = passes.a;
      await replicaA.query("INSERT INTO items SELECT i, true, 0 FROM generate_series(61, 80) AS i");
      await until(async () => (await doneCounts()).every((n) => n > 0));
      expect(await doneCounts()).toEqual(Array.from({ length: 80 }, () => 1));
      expect(passes.a).toBe(before);
      expect(failures).toEqual([]);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
