import { describe, expect, it, test } from "vitest";
import { createBatcher, itemFailed } from "./batcher.js";

/** A flush that records each batch and answers when the test says so. */
function recorder() {
  const batches: string[][] = [];
  const gates: Array<() => void> = [];
  let running = 0;
  let mostRunning = 0;
  return {
    batches,
    get mostRunning() {
      return mostRunning;
    },
    release() {
      for (const open of gates.splice(0)) open();
    },
    flush: async (items: readonly string[]) => {
      batches.push([...items]);
      mostRunning = Math.max(mostRunning, ++running);
      await new Promise<void>((resolve) => gates.push(resolve));
      running--;
      if (items.includes("boom")) throw new Error("boom");
      return items.map((i) => i.toUpperCase());
    },
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

// Items one by one, keys, starting the next batch at once: how fraud writes scores and reads features.
describe("batcher of single items", () => {
  const options = { maxBatch: 200, concurrency: 2, restartAtOnce: true, keyOf: (s: string) => s };

  it("runs items submitted together as one batch, later ones as the next, never more than maxConcurrent", async () => {
    const r = recorder();
    const b = createBatcher({ ...options, flush: r.flush, concurrency: 1, maxBatch: 3 });
    const first = ["a", "b", "c", "d"].map((s) => b.submit(s));
    await settle();
    const later = ["e", "f"].map((s) => b.submit(s));
    await settle();
    expect(r.batches).toEqual([["a", "b", "c"]]);
    r.release();
    await settle();
    expect(r.batches).toEqual([
      ["a", "b", "c"],
      ["d", "e", "f"],
    ]);
    r.release();
    expect(await Promise.all([...first, ...later])).toEqual(["A", "B", "C", "D", "E", "F"]);
    expect(r.mostRunning).toBe(1);
    await b.idle();
  });

  it("puts an item whose key is already in the batch into the next one", async () => {
    const r = recorder();
    const b = createBatcher({ ...options, flush: r.flush });
    const all = ["x", "y", "x", "x"].map((s) => b.submit(s));
    await settle();
    r.release();
    await settle();
    r.release();
    await settle();
    r.release();
    expect(await Promise.all(all)).toEqual(["X", "Y", "X", "X"]);
    expect(r.batches).toEqual([["x", "y"], ["x"], ["x"]]);
  });

  it("fails every item of a failed batch and goes on", async () => {
    const r = recorder();
    const b = createBatcher({ ...options, flush: r.flush });
    const failed = Promise.allSettled(["ok", "boom"].map((s) => b.submit(s)));
    await settle();
    r.release();
    expect((await failed).map((x) => x.status)).toEqual(["rejected", "rejected"]);
    const next = b.submit("fine");
    await settle();
    r.release();
    expect(await next).toBe("FINE");
  });
});

// Calls of several items, never split, sized by their items: how the ledger applies transfers.
describe("batcher of calls", () => {
  const callOptions = { sizeOf: (call: readonly number[]) => call.length };

  test("calls arriving together share one run; later calls wait for a free slot and share the next", async () => {
    const runs: number[][][] = [];
    let release: () => void = () => {};
    const batcher = createBatcher<readonly number[], number[]>({
      ...callOptions,
      maxBatch: 100,
      concurrency: 1,
      flush: async (calls) => {
        runs.push(calls.map((c) => [...c]));
        if (runs.length === 1) await new Promise<void>((r) => (release = r));
        return calls.map((c) => c.map((x) => x * 10));
      },
    });
    const first = [batcher.submit([1]), batcher.submit([2, 3])];
    await new Promise((r) => setImmediate(r));
    const later = [batcher.submit([4]), batcher.submit([5])];
    await new Promise((r) => setImmediate(r));
    expect(runs).toEqual([[[1], [2, 3]]]);
    release();
    expect(await Promise.all([...first, ...later])).toEqual([[10], [20, 30], [40], [50]]);
    expect(runs).toEqual([
      [[1], [2, 3]],
      [[4], [5]],
    ]);
    await batcher.idle();
  });

  test("a run takes at most maxItems, never splitting a call, and a failed run fails only its calls", async () => {
    const sizes: number[] = [];
    const batcher = createBatcher<readonly number[], number[]>({
      ...callOptions,
      maxBatch: 4,
      concurrency: 1,
      flush: async (calls) => {
        sizes.push(calls.flat().length);
        if (calls.some((c) => c.includes(-1))) throw new Error("boom");
        return calls.map((c) => [...c]);
      },
    });
    const results = await Promise.allSettled([
      batcher.submit([1, 2, 3]),
      batcher.submit([4, 5]),
      batcher.submit([-1]),
      batcher.submit([6, 7, 8, 9, 10]),
    ]);
    expect(sizes).toEqual([3, 3, 5]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "rejected", "fulfilled"]);
  });
});

describe("per-item outcomes", () => {
  test("an item the flush marks failed rejects alone; the others of its batch get their results", async () => {
    const batches: number[][] = [];
    const batcher = createBatcher<number, number>({
      maxBatch: 10,
      concurrency: 1,
      flush: async (items) => {
        batches.push([...items]);
        return items.map((n) => (n < 0 ? itemFailed(new RangeError(`${n} is negative`)) : n * 2));
      },
    });
    const results = await Promise.allSettled([batcher.submit(1), batcher.submit(-3), batcher.submit(4)]);
    expect(batches).toEqual([[1, -3, 4]]);
    expect(results).toEqual([
      { status: "fulfilled", value: 2 },
      { status: "rejected", reason: new RangeError("-3 is negative") },
      { status: "fulfilled", value: 8 },
    ]);
  });

  test("an item the flush gave no outcome for is rejected, not answered with nothing", async () => {
    const batcher = createBatcher<number, number>({
      maxBatch: 10,
      concurrency: 1,
      flush: async (items) => items.slice(1),
    });
    const results = await Promise.allSettled([batcher.submit(1), batcher.submit(2)]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected"]);
  });

  test("by default the next batch waits for the end of the turn, so items arriving meanwhile join it", async () => {
    const batches: number[][] = [];
    let release: () => void = () => {};
    const batcher = createBatcher<number, number>({
      maxBatch: 10,
      concurrency: 1,
      flush: async (items) => {
        batches.push([...items]);
        if (batches.length === 1) await new Promise<void>((r) => (release = r));
        return [...items];
      },
    });
    const first = batcher.submit(1);
    await new Promise((r) => setImmediate(r));
    const second = batcher.submit(2);
    release();
    await first;
    // The first flush has ended; an item arriving in the same turn still makes the next batch.
    const third = batcher.submit(3);
    expect(await Promise.all([second, third])).toEqual([2, 3]);
    expect(batches).toEqual([[1], [2, 3]]);
    await batcher.idle();
  });
});
