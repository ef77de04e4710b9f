import { describe, expect, it } from "vitest";
import { createBatcher } from "./batcher.js";

/** A run that records each batch and answers when the test says so. */
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
    run: async (items: string[]) => {
      batches.push(items);
      mostRunning = Math.max(mostRunning, ++running);
      await new Promise<void>((resolve) => gates.push(resolve));
      running--;
      if (items.includes("boom")) throw new Error("boom");
      return items.map((i) => i.toUpperCase());
    },
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("batcher", () => {
  it("runs items submitted together as one batch, later ones as the next, never more than maxConcurrent", async () => {
    const r = recorder();
    const b = createBatcher({ run: r.run, keyOf: (s: string) => s, maxConcurrent: 1, maxBatch: 3 });
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
    const b = createBatcher({ run: r.run, keyOf: (s: string) => s });
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
    const b = createBatcher({ run: r.run, keyOf: (s: string) => s });
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
