// CSV records read by csv-parse (RFC 4180: comma-separated fields, fields in double quotes may hold commas, line
// breaks and doubled quotes; records end with CRLF, LF or a lone CR), fed incrementally as an import's text
// arrives. What csv-parse leaves to its caller is done here: where each record starts (its line, for the error
// list and the rows' event ids), which records are whole at the end of a chunk, and reading on at the next line
// after a malformed record (csv-parse stops at the first error, or with skip_records_with_error reads on inside
// the broken quote).
import type { Options } from "csv-parse/sync";
import { CsvError, parse } from "csv-parse/sync";

/** One record of a CSV text. */
export interface CsvRecord {
  /** 1-based line where the record starts (a quoted field may carry it over several lines). */
  line: number;
  fields: string[];
  /** Set when the record breaks the format (e.g. text after a closing quote); `fields` is then partial. */
  error?: string;
}

const LF = 0x0a;
const CR = 0x0d;
const COMMA = 0x2c;

const OPTIONS: Options = {
  record_delimiter: ["\r\n", "\n", "\r"],
  relax_column_count: true,
  skip_empty_lines: true,
};

/** A record and where it ends in the input (after its line break, when it has one). */
interface Read {
  fields: string[];
  end: number;
  lineBreak: boolean;
  error?: string;
}

/** What one pass over the buffered input gave, up to where it stopped. */
interface Step {
  records: CsvRecord[];
  /** Byte offset up to which the input is consumed. */
  next: number;
  /** True when the rest may only be read once more input has come. */
  wait: boolean;
}

/**
 * An incremental reader: `push` text as it arrives and get back every record completed so far; `end` returns
 * what is left. Completely empty lines are skipped (they still count for line numbers); a UTF-8 byte order mark
 * at the very start is dropped. A quote inside an unquoted field (`my"shop`) is a plain character. A malformed
 * record (text after a closing quote, a quote never closed) is returned with `error` and reading resumes on the
 * next line.
 */
export class CsvReader {
  #pending = "";
  #line = 1;
  #started = false;

  /** Adds text; returns the records it completed. */
  push(text: string): CsvRecord[] {
    const waitedOnCr = this.#pending.endsWith("\r");
    this.#pending += this.#started ? text : stripBom(text);
    this.#started = true;
    // A record is only known to be whole at a line break (or once a CR is known not to start a CRLF), so text
    // without one completes nothing: no need to parse the pending text again.
    if (!waitedOnCr && !/[\r\n]/.test(text)) return [];
    return this.#drain(false);
  }

  /** Ends the input; returns the last records (an unterminated quoted field is a malformed record). */
  end(): CsvRecord[] {
    this.#started = true;
    return this.#drain(true);
  }

  #drain(final: boolean): CsvRecord[] {
    const input = Buffer.from(this.#pending, "utf8");
    const out: CsvRecord[] = [];
    let at = 0;
    while (at < input.length) {
      const step = this.#read(input, at, final);
      out.push(...step.records);
      at = step.next;
      if (step.wait) break;
    }
    // `at` is a record boundary, so the bytes before it decode to exactly the characters consumed.
    this.#pending = this.#pending.slice(input.subarray(0, at).toString("utf8").length);
    return out;
  }

  /**
   * Reads records from `from` with csv-parse until the input ends or csv-parse stops at a record it refuses;
   * that record is then read on its own (readRecord), and the next pass starts after it.
   */
  #read(input: Buffer, from: number, final: boolean): Step {
    const parsed: { fields: string[]; end: number }[] = [];
    let refused = false;
    try {
      parse(input.subarray(from), {
        ...OPTIONS,
        on_record: (fields, context) => {
          parsed.push({ fields, end: from + context.bytes });
          return null;
        },
      });
    } catch (err) {
      if (!(err instanceof CsvError)) throw err;
      refused = true;
    }
    const records: CsvRecord[] = [];
    let at = from;
    for (const { fields, end } of parsed) {
      const read = { fields, end, lineBreak: endsLine(input, end) };
      if (!final && !complete(input, read)) return { records, next: at, wait: true };
      records.push(this.#record(input, at, read));
      at = end;
    }
    if (!refused) {
      // What follows the last record is empty lines: at the end they are nothing, before a record they are
      // counted with it.
      return final ? { records, next: input.length, wait: false } : { records, next: at, wait: true };
    }
    const read = readRecord(input, skipLineBreaks(input, at), final);
    if (read === "wait") return { records, next: at, wait: true };
    records.push(this.#record(input, at, read));
    return { records, next: read.end, wait: false };
  }

  /**
   * The record whose text (empty lines before it included) starts at `from`; advances the line count past it:
   * one per line break between records and one per line feed inside its quoted fields.
   */
  #record(input: Buffer, from: number, read: Read): CsvRecord {
    const line = this.#line + lineBreaks(input, from, skipLineBreaks(input, from));
    const inside = read.fields.reduce((n, f) => n + countLf(f), 0);
    this.#line = line + inside + (read.lineBreak ? 1 : 0);
    return read.error === undefined
      ? { line, fields: read.fields }
      : { line, fields: read.fields, error: read.error };
  }
}

/**
 * The one record that starts at `start` (not a line break), or "wait" when it may go on in input yet to come.
 * csv-parse reads it, strictly; where it refuses the record, what the record is comes from the text csv-parse
 * read up to the character at fault (its `raw`):
 * - a quote inside an unquoted field: that field is read as it is, up to the next comma or line break, and the
 *   record goes on after it;
 * - text after a closing quote: the fields up to that quote, and the rest of the physical line is skipped;
 * - a quoted field never closed (at the end of the input): it holds everything to the end.
 */
function readRecord(input: Buffer, start: number, final: boolean): Read | "wait" {
  let got: Read | undefined;
  let failure: CsvError | undefined;
  try {
    parse(input.subarray(start), {
      ...OPTIONS,
      to: 1,
      raw: true,
      on_record: (record: unknown, context) => {
        const end = start + context.bytes;
        got = { fields: fieldsOf(record), end, lineBreak: endsLine(input, end) };
        return null;
      },
    });
  } catch (err) {
    if (!(err instanceof CsvError)) throw err;
    failure = err;
  }
  if (failure === undefined) {
    if (got === undefined) throw new Error("csv-parse read no record where one starts");
    return final || complete(input, got) ? got : "wait";
  }
  const raw = typeof failure.raw === "string" ? failure.raw : "";
  const fault = start + Buffer.byteLength(raw);
  switch (failure.code) {
    case "INVALID_OPENING_QUOTE": {
      // The field in progress holds no comma and no quote before this one: it starts after raw's last comma.
      const fieldStart = raw.lastIndexOf(",") + 1;
      const before = fieldStart === 0 ? [] : firstFields(raw.slice(0, fieldStart)).slice(0, -1);
      let stop = fault;
      while (stop < input.length && input[stop] !== COMMA && input[stop] !== LF && input[stop] !== CR) stop++;
      const fields = [
        ...before,
        input.subarray(start + Buffer.byteLength(raw.slice(0, fieldStart)), stop).toString(),
      ];
      if (stop === input.length) return final ? { fields, end: stop, lineBreak: false } : "wait";
      if (input[stop] !== COMMA) {
        const end = input[stop] === CR && input[stop + 1] === LF ? stop + 2 : stop + 1;
        const read = { fields, end, lineBreak: true };
        return final || complete(input, read) ? read : "wait";
      }
      // A comma: the record's next field starts after it, unless the line (or the input) ends there.
      const next = stop + 1;
      if (next === input.length)
        return final ? { fields: [...fields, ""], end: next, lineBreak: false } : "wait";
      if (input[next] === LF || input[next] === CR) {
        const end = input[next] === CR && input[next + 1] === LF ? next + 2 : next + 1;
        const read = { fields: [...fields, ""], end, lineBreak: true };
        return final || complete(input, read) ? read : "wait";
      }
      const rest = readRecord(input, next, final);
      return rest === "wait" ? rest : { ...rest, fields: [...fields, ...rest.fields] };
    }
    case "CSV_INVALID_CLOSING_QUOTE": {
      const lineEnd = input.indexOf(LF, fault);
      if (lineEnd === -1 && !final) return "wait";
      return {
        fields: firstFields(raw),
        end: lineEnd === -1 ? input.length : lineEnd + 1,
        lineBreak: lineEnd !== -1,
        error: "text after a closing quote",
      };
    }
    case "CSV_QUOTE_NOT_CLOSED":
      if (!final) return "wait";
      return {
        fields: firstFields(`${raw}"`),
        end: input.length,
        lineBreak: false,
        error: "a quoted field is never closed",
      };
    default:
      throw failure;
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

/** The fields of a record csv-parse hands to on_record: with `raw`, it comes as `{ record, raw }`. */
function fieldsOf(record: unknown): string[] {
  if (typeof record === "object" && record !== null && "record" in record && Array.isArray(record.record)) {
    return record.record.map(String);
  }
  throw new Error("csv-parse gave a record in an unexpected shape");
}

/** The fields of the one record `text` holds: a refused record's text up to its fault, made well-formed. */
function firstFields(text: string): string[] {
  const [fields] = parse(text, OPTIONS);
  return fields ?? [];
}

/** Whether a record is surely whole: it ends with a line break, and a CR is not the last byte (CRLF split?). */
function complete(input: Buffer, read: Read): boolean {
  return read.lineBreak && !(input[read.end - 1] === CR && read.end === input.length);
}

function endsLine(input: Buffer, end: number): boolean {
  return input[end - 1] === LF || input[end - 1] === CR;
}

function skipLineBreaks(input: Buffer, from: number): number {
  let i = from;
  while (input[i] === LF || input[i] === CR) i++;
  return i;
}

/** Line breaks in input[from, to), which holds only CR and LF: CRLF, LF and a lone CR count one each. */
function lineBreaks(input: Buffer, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    if (input[i] === LF || input[i + 1] !== LF) n++;
  }
  return n;
}

function countLf(s: string): number {
  let n = 0;
  for (let i = s.indexOf("\n"); i !== -1; i = s.indexOf("\n", i + 1)) n++;
  return n;
}
