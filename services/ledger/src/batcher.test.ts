import { describe, expect, test } from "vitest";
import { createBatcher } from "./batcher.js";

describe("createBatcher", () => {
  test("calls arriving together share one run; later calls wait for a free slot and share the next", async () => {
    const runs: number[][][] = [];
    let release: () => void = () => {};
    const batcher = createBatcher<number, number>({
      maxItems: 100,
      concurrency: 1,
      run: async (calls) => {
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
    const batcher = createBatcher<number, number>({
      maxItems: 4,
      concurrency: 1,
      run: async (calls) => {
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
