import { describe, expect, it } from "vitest";
import { newEventId } from "./event-id.js";

describe("newEventId", () => {
  it("is a version 7 UUID carrying its millisecond timestamp", () => {
    const now = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
    const id = newEventId(now);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Number.parseInt(id.replaceAll("-", "").slice(0, 12), 16)).toBe(now);
  });

  it("sorts by creation time and does not repeat", () => {
    const ids = Array.from({ length: 1000 }, (_, i) => newEventId(1_700_000_000_000 + i));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(Array.from({ length: 1000 }, () => newEventId(0))).size).toBe(1000);
  });
});
