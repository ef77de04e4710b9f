/**
 * google.api.http path templates (https://google.aip.dev/127):
 *
 *     Template = "/" Segments [ Verb ] ;   Segments = Segment { "/" Segment } ;
 *     Segment  = "*" | "**" | LITERAL | Variable ;   Variable = "{" FieldPath [ "=" Segments ] "}" ;
 *
 * `{name}` is `{name=*}`: one segment. `**` matches the rest of the path and may only come last.
 */

/** One URL segment's matcher. */
type SegmentPattern = { kind: "literal"; value: string } | { kind: "one" } | { kind: "rest" };

/** A run of segments, captured into a request field when `field` is set. */
interface Part {
  field?: string;
  segments: SegmentPattern[];
}

/** A parsed template, ready to match request paths. */
export interface PathTemplate {
  /** The template as written, e.g. "/api/v1/fx/rates/{base}/{quote}". */
  readonly source: string;
  /** Request fields bound by the path, as dotted proto field paths ("base", "wallet.id"). */
  readonly fields: readonly string[];
  readonly verb: string | undefined;
  /** Orders routes: a literal segment beats a variable, a variable beats `**` ("/users/me" before "/users/{id}"). */
  readonly rank: readonly number[];
  /**
   * How many "/"-separated segments a matching path has: exactly `count`, or with a trailing `**` (`open`) at least
   * `count - 1`. Lets a router skip templates by a path's length before matching.
   */
  readonly segments: { count: number; open: boolean };
  /** The variables of a matching path (percent-decoded), or undefined when it does not match. */
  match(path: string): Map<string, string> | undefined;
  /** The template in OpenAPI form: "/api/v1/fx/rates/{base}/{quote}". */
  readonly openApiPath: string;
}

/** A path template that does not follow the grammar. */
export class PathTemplateError extends Error {
  override readonly name = "PathTemplateError";
}

const LITERAL = /^[A-Za-z0-9._~!$&'()+,;=@-]+$/;
const FIELD_PATH = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$/;

/** Parses a template; throws {@link PathTemplateError} for one that breaks the grammar. */
export function parsePathTemplate(source: string): PathTemplate {
  if (!source.startsWith("/")) throw new PathTemplateError(`path template must start with "/": ${source}`);
  let body = source.slice(1);
  let verb: string | undefined;
  // The verb follows the last segment; a ":" inside a variable ({name=a:b}) is not one.
  const lastBrace = body.lastIndexOf("}");
  const colon = body.indexOf(":", lastBrace + 1);
  if (colon >= 0) {
    verb = body.slice(colon + 1);
    body = body.slice(0, colon);
    if (!LITERAL.test(verb)) throw new PathTemplateError(`bad verb in ${source}`);
  }
  const parts: Part[] = [];
  for (const raw of splitTopLevel(body, source)) {
    if (raw.startsWith("{")) {
      if (!raw.endsWith("}")) throw new PathTemplateError(`unclosed variable in ${source}`);
      const inner = raw.slice(1, -1);
      const eq = inner.indexOf("=");
      const field = eq < 0 ? inner : inner.slice(0, eq);
      if (!FIELD_PATH.test(field)) throw new PathTemplateError(`bad field path "${field}" in ${source}`);
      const segments =
        eq < 0
          ? [{ kind: "one" as const }]
          : inner
              .slice(eq + 1)
              .split("/")
              .map((s) => segment(s, source));
      parts.push({ field, segments });
    } else {
      parts.push({ segments: [segment(raw, source)] });
    }
  }
  const flat = parts.flatMap((p) => p.segments);
  const restAt = flat.findIndex((s) => s.kind === "rest");
  if (restAt >= 0 && restAt !== flat.length - 1)
    throw new PathTemplateError(`"**" must come last in ${source}`);
  const fields = parts.flatMap((p) => (p.field === undefined ? [] : [p.field]));
  if (new Set(fields).size !== fields.length)
    throw new PathTemplateError(`a field is bound twice in ${source}`);
  const rank = flat.map((s) => (s.kind === "literal" ? 2 : s.kind === "one" ? 1 : 0));
  const openApiPath = `/${parts.map((p) => (p.field === undefined ? patternText(p.segments) : `{${p.field}}`)).join("/")}${verb === undefined ? "" : `:${verb}`}`;

  return {
    source,
    fields,
    verb,
    rank,
    segments: { count: flat.length, open: restAt >= 0 },
    openApiPath,
    match(path) {
      let rest = path;
      if (verb !== undefined) {
        if (!rest.endsWith(`:${verb}`)) return undefined;
        rest = rest.slice(0, -verb.length - 1);
      }
      if (!rest.startsWith("/")) return undefined;
      const segs = rest.slice(1).split("/");
      const values = new Map<string, string>();
      let i = 0;
      for (const part of parts) {
        const start = i;
        for (const s of part.segments) {
          if (s.kind === "rest") {
            i = segs.length;
            break;
          }
          const seg = segs[i];
          if (seg === undefined) return undefined;
          if (s.kind === "literal" ? seg !== s.value : seg === "") return undefined;
          i++;
        }
        if (part.field !== undefined) {
          const decoded = decode(segs.slice(start, i));
          if (decoded === undefined) return undefined;
          values.set(part.field, decoded);
        }
      }
      return i === segs.length ? values : undefined;
    },
  };
}

// Splits on "/" outside braces: "{name=shelves/*}/books" -> ["{name=shelves/*}", "books"].
function splitTopLevel(body: string, source: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === "{") depth++;
    else if (c === "}") depth--;
    else if (c === "/" && depth === 0) {
      out.push(body.slice(start, i));
      start = i + 1;
    }
    if (depth < 0 || depth > 1) throw new PathTemplateError(`unbalanced braces in ${source}`);
  }
  out.push(body.slice(start));
  if (out.some((s) => s === "")) throw new PathTemplateError(`empty segment in ${source}`);
  return out;
}

function segment(text: string, source: string): SegmentPattern {
  if (text === "*") return { kind: "one" };
  if (text === "**") return { kind: "rest" };
  if (!LITERAL.test(text)) throw new PathTemplateError(`bad segment "${text}" in ${source}`);
  return { kind: "literal", value: text };
}

function patternText(segments: SegmentPattern[]): string {
  return segments.map((s) => (s.kind === "literal" ? s.value : s.kind === "one" ? "*" : "**")).join("/");
}

function decode(segments: string[]): string | undefined {
  try {
    return segments.map(decodeURIComponent).join("/");
  } catch {
    return undefined;
  }
}

/** Compares two templates' ranks: negative when `a` should be tried first. */
export function compareRank(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? -1;
    const y = b[i] ?? -1;
    if (x !== y) return y - x;
  }
  return 0;
}
