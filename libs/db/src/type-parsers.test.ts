import { afterAll, describe, expect, test } from "vitest";
import { createPool } from "./create-pool.js";
import { databaseUrl } from "./test/scratch.js";

const pool = createPool({ url: databaseUrl, max: 2 });
afterAll(() => pool.end());

describe("type parsers", () => {
  test("int8 beyond 2^53 comes back as an exact bigint, and bigint parameters go in exactly", async () => {
    const { rows } = await pool.query("SELECT 9007199254740993::int8 AS literal, $1::int8 AS param", [
      9223372036854775807n,
    ]);
    expect(rows[0]).toEqual({ literal: 9007199254740993n, param: 9223372036854775807n });
    expect(typeof rows[0].literal).toBe("bigint");
  });

  test("numeric comes back as its exact decimal text", async () => {
    const { rows } = await pool.query(
      "SELECT '12345678901234567890.123456789'::numeric AS n, 1.10::numeric AS scale, $1::numeric AS param",
      ["-0.000000000000000001"],
    );
    expect(rows[0]).toEqual({
      n: "12345678901234567890.123456789",
      scale: "1.10",
      param: "-0.000000000000000001",
    });
  });

  test("int8[] and numeric[] keep every element exact, including NULLs and nesting", async () => {
    const { rows } = await pool.query(`
      SELECT ARRAY[9007199254740993, NULL, -1]::int8[] AS ints,
             '{{1,2},{3,4}}'::int8[] AS grid,
             '{1.10,NULL,12345678901234567890.123456789}'::numeric[] AS decimals,
             '{}'::int8[] AS empty`);
    expect(rows[0]).toEqual({
      ints: [9007199254740993n, null, -1n],
      grid: [
        [1n, 2n],
        [3n, 4n],
      ],
      decimals: ["1.10", null, "12345678901234567890.123456789"],
      empty: [],
    });
  });

  test("int4 is still a number", async () => {
    const { rows } = await pool.query("SELECT 42::int4 AS n");
    expect(rows[0].n).toBe(42);
  });
});
