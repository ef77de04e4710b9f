/**
 * Importing this module installs pg's result parsers for money-relevant types (ES modules run once per process):
 * - INT8 (oid 20) -> `bigint`, INT8[] (oid 1016) -> `(bigint | null)[]`
 * - NUMERIC (oid 1700) -> `string` holding the exact decimal text, NUMERIC[] (oid 1231) -> `(string | null)[]`
 *
 * pg's defaults return INT8 as a string and NUMERIC[] as JS numbers (silently lossy), which is wrong for money.
 * Parameters need no setup: pg serialises a `bigint` parameter with `toString()`, so `$1::int8` receives it exactly.
 *
 * The parsers are process-wide (pg keeps one registry per loaded `pg` module), so every pool and client sees them.
 * @module
 */
import pg from "pg";

/** pg-types' enum lists scalar types only; array oids are valid ids all the same. */
type TypeId = Parameters<typeof pg.types.setTypeParser>[0];
const INT8_ARRAY = 1016 as TypeId;
const NUMERIC_ARRAY = 1231 as TypeId;
const TEXT_ARRAY = 1009 as TypeId;

type NestedArray<T> = Array<T | null | NestedArray<T>>;

/** pg's own TEXT[] parser: splits an array literal into strings, NULL elements become null, nesting is kept. */
const parseTextArray = pg.types.getTypeParser(TEXT_ARRAY) as (value: string) => NestedArray<string>;

function mapNested<T, U>(items: NestedArray<T>, fn: (item: T) => U): NestedArray<U> {
  return items.map((item) => {
    if (item === null) return null;
    if (Array.isArray(item)) return mapNested(item, fn);
    return fn(item);
  });
}

pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => BigInt(value));
pg.types.setTypeParser(INT8_ARRAY, (value: string) => mapNested(parseTextArray(value), BigInt));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (value: string) => value);
pg.types.setTypeParser(NUMERIC_ARRAY, (value: string) => parseTextArray(value));
