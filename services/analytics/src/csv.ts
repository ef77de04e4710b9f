// A small RFC 4180 CSV reader: comma-separated fields, fields in double quotes may hold commas, line breaks and
// doubled quotes (""), records end with CRLF, LF or a lone CR. Written here because no maintained CSV parser is
// installed in the workspace; swap in one (e.g. csv-parse) behind the same CsvRecord shape when it is.

/** One record of a CSV text. */
export interface CsvRecord {
  /** 1-based line where the record starts (a quoted field may carry it over several lines). */
  line: number;
  fields: string[];
  /** Set when the record breaks the format (e.g. text after a closing quote); `fields` is then partial. */
  error?: string;
}

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

type Step = { record: CsvRecord; next: number; lines: number } | "incomplete";

/**
 * An incremental reader: `push` text as it arrives and get back every record completed so far; `end` returns
 * what is left. Completely empty lines are skipped (they still count for line numbers); a UTF-8 byte order mark
 * at the very start is dropped. A malformed record is returned with `error` and reading resumes on the next line.
 */
export class CsvReader {
  #buffer = "";
  #line = 1;
  #started = false;

  /** Adds text; returns the records it completed. */
  push(text: string): CsvRecord[] {
    this.#buffer += this.#started ? text : stripBom(text);
    this.#started = true;
    return this.#drain(false);
  }

  /** Ends the input; returns the last records (an unterminated quoted field is a malformed record). */
  end(): CsvRecord[] {
    this.#started = true;
    return this.#drain(true);
  }

  #drain(final: boolean): CsvRecord[] {
    const out: CsvRecord[] = [];
    const s = this.#buffer;
    let i = 0;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c === LF) {
        i++;
        this.#line++;
        continue;
      }
      if (c === CR) {
        if (i + 1 >= s.length && !final) break;
        i += s.charCodeAt(i + 1) === LF ? 2 : 1;
        this.#line++;
        continue;
      }
      const step = readRecord(s, i, this.#line, final);
      if (step === "incomplete") break;
      out.push(step.record);
      i = step.next;
      this.#line += step.lines;
    }
    this.#buffer = s.slice(i);
    return out;
  }
}

/** Reads a whole CSV text at once. */
export function parseCsv(text: string): CsvRecord[] {
  const reader = new CsvReader();
  return [...reader.push(text), ...reader.end()];
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

// Reads the record starting at `start` (not at a line break). Returns "incomplete" when the buffer ends before
// the record does and more input may come.
function readRecord(s: string, start: number, line: number, final: boolean): Step {
  const fields: string[] = [];
  let i = start;
  let lines = 0;
  for (;;) {
    let value: string;
    if (s.charCodeAt(i) === QUOTE) {
      value = "";
      let j = i + 1;
      for (;;) {
        const k = s.indexOf('"', j);
        if (k === -1) {
          if (!final) return "incomplete";
          lines += countLf(s, j, s.length);
          return {
            record: {
              line,
              fields: [...fields, value + s.slice(j)],
              error: "a quoted field is never closed",
            },
            next: s.length,
            lines,
          };
        }
        lines += countLf(s, j, k);
        if (k + 1 >= s.length && !final) return "incomplete";
        if (s.charCodeAt(k + 1) === QUOTE) {
          value += `${s.slice(j, k)}"`;
          j = k + 2;
          continue;
        }
        value += s.slice(j, k);
        i = k + 1;
        break;
      }
      const after = i < s.length ? s.charCodeAt(i) : -1;
      if (after !== COMMA && after !== LF && after !== CR && after !== -1) {
        // Text after a closing quote: skip the rest of the physical line and report the record.
        const end = s.indexOf("\n", i);
        if (end === -1 && !final) return "incomplete";
        const next = end === -1 ? s.length : end + 1;
        return {
          record: { line, fields: [...fields, value], error: "text after a closing quote" },
          next,
          lines: lines + (end === -1 ? 0 : 1),
        };
      }
    } else {
      let k = i;
      while (k < s.length) {
        const c = s.charCodeAt(k);
        if (c === COMMA || c === LF || c === CR) break;
        k++;
      }
      if (k >= s.length && !final) return "incomplete";
      value = s.slice(i, k);
      i = k;
    }
    fields.push(value);
    if (i >= s.length) return { record: { line, fields }, next: i, lines };
    const c = s.charCodeAt(i);
    if (c === COMMA) {
      i++;
      if (i >= s.length) {
        if (!final) return "incomplete";
        fields.push("");
        return { record: { line, fields }, next: i, lines };
      }
      continue;
    }
    if (c === LF) return { record: { line, fields }, next: i + 1, lines: lines + 1 };
    // CR: CRLF or a lone CR ends the record; at the end of a chunk we cannot tell yet.
    if (i + 1 >= s.length && !final) return "incomplete";
    const next = s.charCodeAt(i + 1) === LF ? i + 2 : i + 1;
    return { record: { line, fields }, next, lines: lines + 1 };
  }
}

function countLf(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = s.indexOf("\n", from); i !== -1 && i < to; i = s.indexOf("\n", i + 1)) n++;
  return n;
}
