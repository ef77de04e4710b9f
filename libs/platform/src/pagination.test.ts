import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { errorInfoOf } from "./errors.js";
import {
  cursorParts,
  DEFAULT_PAGE_SIZE,
  pageCursor,
  pageSize,
  pageSizeIssues,
  takePage,
} from "./pagination.js";

function refusalOf(f: () => unknown): ConnectError {
  try {
    f();
  } catch (err) {
    if (err instanceof ConnectError) return err;
    throw err;
  }
  throw new Error("expected a refusal");
}

describe("page size", () => {
  it("is the default without a limit, else the limit", () => {
    expect(pageSize(0)).toBe(DEFAULT_PAGE_SIZE);
    expect(pageSize(7)).toBe(7);
  });

  it("accepts 0 to max and names the field otherwise", () => {
    expect(pageSizeIssues(0)).toEqual([]);
    expect(pageSizeIssues(100)).toEqual([]);
    expect(pageSizeIssues(101)).toEqual([{ field: "limit", message: "must be between 1 and 100" }]);
    expect(pageSizeIssues(-1)).toHaveLength(1);
    expect(pageSizeIssues(1000, 1000)).toEqual([]);
    expect(pageSizeIssues(1001, 1000)).toEqual([{ field: "limit", message: "must be between 1 and 1000" }]);
  });
});

describe("takePage", () => {
  const token = (n: number) => `after-${n}`;

  it("shows `size` rows and a cursor after the last one when the extra row came back", () => {
    expect(takePage([1, 2, 3], 2, token)).toEqual({ items: [1, 2], nextPageToken: "after-2" });
  });

  it("has no next cursor on the last page", () => {
    expect(takePage([1, 2], 2, token)).toEqual({ items: [1, 2], nextPageToken: undefined });
    expect(takePage([], 2, token)).toEqual({ items: [], nextPageToken: undefined });
  });
});

describe("pageCursor", () => {
  const byTime = pageCursor({ createdAt: cursorParts.time, id: cursorParts.uuid });
  const position = {
    createdAt: new Date("2026-03-01T08:00:00.123Z"),
    id: "0190f0a4-1c2b-7d3e-8f40-a1b2c3d4e5f6",
  };

  it("reads back the position it wrote", () => {
    const token = byTime.encode(position);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(byTime.decode(token)).toEqual(position);
  });

  it("writes the time|id and bare-number formats lists have always written", () => {
    const legacy = Buffer.from("2026-03-01T08:00:00.123Z|0190f0a4-1c2b-7d3e-8f40-a1b2c3d4e5f6").toString(
      "base64url",
    );
    expect(byTime.encode(position)).toBe(legacy);
    const byId = pageCursor({ id: cursorParts.int64 });
    expect(byId.encode({ id: 42n })).toBe(Buffer.from("42").toString("base64url"));
    expect(byId.decode(Buffer.from("9223372036854775807").toString("base64url"))).toEqual({
      id: 9223372036854775807n,
    });
  });

  it("keeps free text whole, separators and escapes included", () => {
    const byText = pageCursor({ at: cursorParts.time, txn: cursorParts.text(128) });
    for (const txn of ["a|b", "100%", "%7C", "%25|%", "ünï ✓"]) {
      const p = { at: position.createdAt, txn };
      expect(byText.decode(byText.encode(p))).toEqual(p);
    }
  });

  it("refuses as VALIDATION_ERROR on the cursor field anything it did not write", () => {
    const forged = (text: string) => Buffer.from(text).toString("base64url");
    const tokens = [
      "garbage",
      "",
      forged("2026-03-01T08:00:00.123Z"),
      forged("2026-03-01T08:00:00.123Z|0190f0a4-1c2b-7d3e-8f40-a1b2c3d4e5f6|x"),
      forged("2026-03-01|0190f0a4-1c2b-7d3e-8f40-a1b2c3d4e5f6"),
      forged("+275760-09-13T00:00:00.000Z|0190f0a4-1c2b-7d3e-8f40-a1b2c3d4e5f6"),
      forged("2026-03-01T08:00:00.123Z|not-a-uuid"),
      "A".repeat(2000),
    ];
    for (const token of tokens) {
      const err = refusalOf(() => byTime.decode(token));
      expect(err.code, token).toBe(Code.InvalidArgument);
      expect(errorInfoOf(err)).toMatchObject({ reason: "VALIDATION_ERROR", metadata: { field: "cursor" } });
    }
  });

  it("refuses values Postgres would refuse in the query", () => {
    const forged = (text: string) => Buffer.from(text).toString("base64url");
    const byId = pageCursor({ id: cursorParts.int64 }, "page_token");
    expect(errorInfoOf(refusalOf(() => byId.decode(forged("9223372036854775808"))))?.metadata).toEqual({
      field: "page_token",
    });
    const byText = pageCursor({ txn: cursorParts.text(8) });
    refusalOf(() => byText.decode(forged("nul\u0000")));
    refusalOf(() => byText.decode(forged("123456789")));
    refusalOf(() => byText.decode(forged("50%off")));
    const byAmount = pageCursor({ key: cursorParts.decimal });
    expect(byAmount.decode(forged("-12.50"))).toEqual({ key: "-12.50" });
    refusalOf(() => byAmount.decode(forged("12.5.0")));
  });
});
