import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { CsvReader, parseCsv } from "./csv.js";

describe("the CSV reader", () => {
  test("reads quoted fields with commas, doubled quotes, line breaks, CRLF and a lone CR", () => {
    const text = 'a,b,c\r\n1,"x, y","say ""hi"""\r\n2,"two\nlines",z\n3,,\r4,"",end';
    expect(parseCsv(text)).toEqual([
      { line: 1, fields: ["a", "b", "c"] },
      { line: 2, fields: ["1", "x, y", 'say "hi"'] },
      { line: 3, fields: ["2", "two\nlines", "z"] },
      { line: 5, fields: ["3", "", ""] },
      { line: 6, fields: ["4", "", "end"] },
    ]);
  });

  test("skips empty lines but counts them, drops a byte order mark, keeps a trailing empty field", () => {
    expect(parseCsv("\uFEFFa,b\n\n\r\n1,\n")).toEqual([
      { line: 1, fields: ["a", "b"] },
      { line: 4, fields: ["1", ""] },
    ]);
  });

  test("reports a malformed record and goes on with the next line", () => {
    expect(parseCsv('a,b\n"x"y,1\n2,3\n"never closed,4\n5')).toEqual([
      { line: 1, fields: ["a", "b"] },
      { line: 2, fields: ["x"], error: "text after a closing quote" },
      { line: 3, fields: ["2", "3"] },
      { line: 4, fields: ["never closed,4\n5"], error: "a quoted field is never closed" },
    ]);
  });

  test("reads a quote inside an unquoted field as a plain character, and the rest of the record after it", () => {
    expect(parseCsv('a,my"shop,"x, y"\nb"c,d",\r\ne"f,"g"h,1\n2')).toEqual([
      { line: 1, fields: ["a", 'my"shop', "x, y"] },
      { line: 2, fields: ['b"c', 'd"', ""] },
      { line: 3, fields: ['e"f', "g"], error: "text after a closing quote" },
      { line: 4, fields: ["2"] },
    ]);
  });

  test("gives the same records however the text is cut into chunks", () => {
    const row = fc.array(
      fc.oneof(fc.string({ unit: fc.constantFrom("a", "b", ",", '"', "\n", "\r", " ") }), fc.constant("")),
      { minLength: 1, maxLength: 4 },
    );
    const quote = (f: string) => (/[",\r\n]/.test(f) || f === "" ? `"${f.replaceAll('"', '""')}"` : f);
    fc.assert(
      fc.property(
        fc.array(row, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (rows, cuts) => {
          const text = rows.map((r) => r.map(quote).join(",")).join("\r\n");
          const whole = parseCsv(text);
          expect(whole.map((r) => r.fields)).toEqual(rows);
          const reader = new CsvReader();
          const pieces: string[] = [];
          let at = 0;
          for (const c of [...cuts].sort((a, b) => a - b)) {
            const end = Math.min(text.length, c % (text.length + 1));
            if (end > at) {
              pieces.push(text.slice(at, end));
              at = end;
            }
          }
          pieces.push(text.slice(at));
          const chunked = [...pieces.flatMap((p) => reader.push(p)), ...reader.end()];
          expect(chunked).toEqual(whole);
        },
      ),
      { numRuns: 200 },
    );
  });
});
