import { describe, expect, it } from "vitest";
import { groupCommit } from "./group-commit.js";

/** An error as pg raises it for SQLSTATE `code`. */
const pgError = (message: string, code: string) =>
  Object.assign(new Error(message), { code, severity: code.startsWith("57") ? "FATAL" : "ERROR" });

/** A statement that records what it was given and fails as Postgres would when it holds `bad`. */
function statement(fail: { bad?: string; code?: string } = {}) {
  const calls: string[][] = [];
  return {
    calls,
    run: async (items: readonly string[]) => {
      calls.push([...items]);
      if (fail.bad !== undefined && items.includes(fail.bad)) {
        throw pgError(`statement failed on ${fail.bad}`, fail.code ?? "23514");
      }
      return items.map((i) => i.toUpperCase());
    },
  };
}

describe("groupCommit", () => {
  it("writes items submitted together in one statement, each getting its own result", async () => {
    const s = statement();
    const shared = groupCommit({ statement: s.run, keysOf: () => [] });
    expect(await Promise.all(["a", "b", "c"].map((i) => shared.submit(i)))).toEqual(["A", "B", "C"]);
    expect(s.calls).toEqual([["a", "b", "c"]]);
  });

  it("when the shared statement fails on one item, the others are written and only that one fails", async () => {
    const s = statement({ bad: "b" });
    const shared = groupCommit({ statement: s.run, keysOf: () => [] });
    const results = await Promise.allSettled(["a", "b", "c"].map((i) => shared.submit(i)));
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(results[0]).toMatchObject({ value: "A" });
    expect(results[1]).toMatchObject({ reason: { message: "statement failed on b", code: "23514" } });
    // Together first, then each alone.
    expect(s.calls).toEqual([["a", "b", "c"], ["a"], ["b"], ["c"]]);
  });

  it("when the database is away, every item fails at once, without trying each alone", async () => {
    const s = statement({ bad: "a", code: "57P01" });
    const shared = groupCommit({ statement: s.run, keysOf: () => [] });
    const results = await Promise.allSettled(["a", "b"].map((i) => shared.submit(i)));
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(s.calls).toEqual([["a", "b"]]);
  });

  it("a deadlock with another statement is tried again item by item", async () => {
    let first = true;
    const calls: string[][] = [];
    const shared = groupCommit({
      statement: async (items: readonly string[]) => {
        calls.push([...items]);
        if (first) {
          first = false;
          throw pgError("deadlock detected", "40P01");
        }
        return items.map((i) => i.toUpperCase());
      },
      keysOf: () => [],
    });
    expect(await Promise.all(["a", "b"].map((i) => shared.submit(i)))).toEqual(["A", "B"]);
    expect(calls).toEqual([["a", "b"], ["a"], ["b"]]);
  });

  it("items sharing a key go into successive statements, in the order they came", async () => {
    const s = statement();
    const shared = groupCommit({ statement: s.run, keysOf: (i: string) => [i.slice(0, 1)] });
    const out = await Promise.all(["x1", "y1", "x2", "x3", "y2"].map((i) => shared.submit(i)));
    expect(out).toEqual(["X1", "Y1", "X2", "X3", "Y2"]);
    expect(s.calls).toEqual([["x1", "y1"], ["x2", "y2"], ["x3"]]);
  });

  it("items arriving while statements run wait, and the next statement takes them all", async () => {
    const calls: string[][] = [];
    const gates: Array<() => void> = [];
    const shared = groupCommit({
      statement: async (items: readonly string[]) => {
        calls.push([...items]);
        await new Promise<void>((open) => gates.push(open));
        return items.map((i) => i.toUpperCase());
      },
      keysOf: () => [],
      concurrency: 1,
    });
    const first = shared.submit("a");
    await new Promise((resolve) => setImmediate(resolve));
    const later = ["b", "c", "d"].map((i) => shared.submit(i));
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual([["a"]]);
    gates.shift()?.();
    expect(await first).toBe("A");
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toEqual([["a"], ["b", "c", "d"]]);
    gates.shift()?.();
    expect(await Promise.all(later)).toEqual(["B", "C", "D"]);
  });
});
