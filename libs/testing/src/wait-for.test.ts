import { describe, expect, test } from "vitest";
import { waitFor } from "./wait-for.js";

describe("waitFor", () => {
  test("polls until the function returns a result and resolves with it", async () => {
    let calls = 0;
    const value = await waitFor(
      async () => {
        calls += 1;
        return calls >= 3 ? { calls } : undefined;
      },
      { intervalMs: 1 },
    );
    expect(value).toEqual({ calls: 3 });
  });

  test("treats 0 and null as results, false and undefined as not yet", async () => {
    expect(await waitFor(() => 0)).toBe(0);
    expect(await waitFor(() => null)).toBe(null);
    const answers = [false, undefined, "done"] as const;
    let i = 0;
    expect(await waitFor(() => answers[i++], { intervalMs: 1 })).toBe("done");
  });

  test("rejects with WaitForTimeoutError once the deadline passes", async () => {
    const started = Date.now();
    let calls = 0;
    const error = await waitFor(
      () => {
        calls += 1;
        return false;
      },
      { timeoutMs: 100, intervalMs: 10 },
    ).catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(error).toMatchObject({ name: "WaitForTimeoutError" });
    expect((error as Error).message).toMatch(/not met within 100 ms/);
    expect(elapsed).toBeGreaterThanOrEqual(100);
    expect(elapsed).toBeLessThan(1000);
    expect(calls).toBeGreaterThan(2);
  });

  test("passes an error from the function straight through without retrying", async () => {
    let calls = 0;
    const failure = new Error("broken");
    await expect(
      waitFor(() => {
        calls += 1;
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(calls).toBe(1);
  });
});
