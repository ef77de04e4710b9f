import fc from "fast-check";

// fast-check arbitraries of hostile HTTP requests, driven by the gateway's own OpenAPI document: for each
// operation, requests that are mostly well-formed (so they get past the first check and into the services)
// with hostile values mixed in: wrong types, huge and too-precise numbers, long, unicode, NUL and control
// strings, injection and path-traversal strings, malformed JSON and wrong content types.

/** The part of a JSON Schema the gateway's OpenAPI document uses. */
export interface Schema {
  $ref?: string;
  type?: string | string[];
  enum?: string[];
  format?: string;
  pattern?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: boolean | Schema;
}

interface Parameter {
  name: string;
  in: "path" | "query" | "header";
  schema: Schema;
}

/** One operation of the document. */
export interface Operation {
  method: string;
  /** The OpenAPI path, with {placeholders}. */
  path: string;
  parameters: Parameter[];
  /** The JSON request body's schema, if the operation takes one. */
  body: Schema | undefined;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, { parameters?: Parameter[]; requestBody?: RequestBody }>>;
  components: { schemas: Record<string, Schema> };
}

interface RequestBody {
  content: Record<string, { schema: Schema }>;
}

/** Every operation of the document, in document order. */
export function operationsOf(doc: OpenApiDocument): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      out.push({
        method: method.toUpperCase(),
        path,
        parameters: op.parameters ?? [],
        body: op.requestBody?.content["application/json"]?.schema,
      });
    }
  }
  return out;
}

/** A JSON number written exactly as given, so tests can send numbers no double holds. */
export class RawNumber {
  constructor(readonly text: string) {}
}

/** A generated JSON value: plain JSON with {@link RawNumber}s in it. */
export type Value = null | boolean | number | string | RawNumber | Value[] | { [key: string]: Value };

/** Serialises a {@link Value}, raw numbers verbatim. */
export function jsonText(value: Value): string {
  if (value instanceof RawNumber) return value.text;
  if (Array.isArray(value)) return `[${value.map(jsonText).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${jsonText(v)}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

const NASTY_STRINGS = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\u0001\u001f\u007f",
  "\u001b[2J",
  "\u0085",
  "\ud800",
  "x\udfffy",
  "line\nbreak\r\n\ttab",
  "\u202eevil",
  "' OR '1'='1",
  "'; DROP TABLE wallets; --",
  "\\",
  '"',
  "../../../etc/passwd",
  "..%2f..%2f",
  "%00",
  "%",
  "{{7*7}}",
  "$" + "{jndi:ldap://x}",
  "<script>alert(1)</script>",
  "null",
  "NaN",
  "Infinity",
  "-1",
  "0",
  "1e309",
  "0x10",
  "9223372036854775807",
  "9223372036854775808",
  "-9223372036854775809",
  "99999999999999999999999999999.99",
  "0.0000000001",
  "1.005",
  "٣",
  "𝟗",
  "🙂",
  "ＭＹＲ",
  "myr",
  "2026-13-45",
  "0000-01-01",
  "0001-01-01T00:00:00Z",
  "9999-12-31T23:59:59Z",
  "-271821-04-20T00:00:00Z",
  "+275760-09-13T00:00:00Z",
  "not-a-uuid",
  "00000000-0000-0000-0000-000000000000",
];

/** Ordinary text with control characters in it (NUL most often), where a database would choke. */
const controlled: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom("Kopi Corner", "a", "", "lunch with friends"),
    fc.constantFrom("\u0000", "\u0000", "\u0001", "\u0008", "\u000b", "\u001b", "\u007f", "\u0085", "\ud800"),
    fc.nat(),
  )
  .map(([text, c, at]) => {
    const i = at % (text.length + 1);
    return `${text.slice(0, i)}${c}${text.slice(i)}`;
  });

/** Hostile text of every kind, up to `maxLong` characters for the long ones. */
export function nastyString(maxLong = 5_000): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: controlled },
    { weight: 4, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
    { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
    { weight: 2, arbitrary: fc.string({ maxLength: 60 }) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.constantFrom("x", "9", "é", "\u0000"),
          fc.integer({ min: Math.min(256, maxLong), max: maxLong }),
        )
        .map(([c, n]) => c.repeat(n)),
    },
  );
}

const RAW_NUMBERS = [
  "0",
  "-0",
  "-1",
  "1.5",
  "0.1",
  "1e3",
  "1E-7",
  "1e309",
  "-1e309",
  "4.9e-324",
  "2147483647",
  "2147483648",
  "-2147483649",
  "4294967296",
  "9007199254740993",
  "9223372036854775807",
  "9223372036854775808",
  "18446744073709551616",
  "123456789012345678901234567890",
  "99999999999999999999999999999.99",
  "10.001",
];

export const nastyNumber: fc.Arbitrary<RawNumber> = fc
  .oneof(
    fc.constantFrom(...RAW_NUMBERS),
    fc.integer().map(String),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
  )
  .map((t) => new RawNumber(t));

/** Any JSON value at all, for a field that expects something else. */
const wrongType: fc.Arbitrary<Value> = fc.oneof(
  fc.constant<Value>(null),
  fc.boolean(),
  nastyNumber,
  nastyString(300),
  fc.constant<Value>([]),
  fc.constant<Value>({}),
  fc.constant<Value>([1, "a", null]),
  fc.constant<Value>({ nested: { deeper: "\u0000" } }),
);

/** Plausible values for fields by name, so many requests get past the first check. */
export interface Known {
  /** Ids a path or body may name (wallets, transactions, users, keys, imports). */
  ids: string[];
  currencies: string[];
}

// Cursors are opaque but base64url of text a client can forge: times outside what Postgres stores, ids
// that only look like UUIDs, keys beyond 64 bits, in the shapes the services' cursors have.
const b64 = (text: string) => Buffer.from(text).toString("base64url");
const FORGED_CURSORS = [
  b64("-271821-04-20T00:00:00.000Z|00000000-0000-0000-0000-000000000000"),
  b64("2026-03-01T00:00:00.000Z|------------------------------------"),
  b64(JSON.stringify({ k: "-271821-04-20T00:00:00.000Z", i: "00000000-0000-0000-0000-000000000000" })),
  b64(JSON.stringify({ k: "2026-03-01T00:00:00.000Z", i: "------------------------------------" })),
  b64(JSON.stringify({ k: "99999999999999999999999999999", i: "00000000-0000-0000-0000-000000000000" })),
  b64(JSON.stringify(["+275760-09-13T00:00:00.000Z", "00000000-0000-0000-0000-000000000000"])),
  b64(JSON.stringify(["2026-03-01T00:00:00.000Z", "not-a-uuid"])),
  b64("9999999999999999999"),
  b64("-8640000000000000:1"),
  b64("999999999"),
];

function plausibleFor(name: string, known: Known): fc.Arbitrary<Value> | undefined {
  const n = name.toLowerCase();
  if (n === "currency" || n.endsWith("_currency") || n === "base" || n === "quote")
    return fc.constantFrom(...known.currencies);
  if (n === "id" || n.endsWith("_id")) return fc.constantFrom(...known.ids);
  if (n === "amount" || n.endsWith("_amount")) return fc.constantFrom("0.01", "1.00", "10", "45.50", 2.5);
  if (n === "rate") return fc.constantFrom("3.5", "0.000000000001", "1", "4.70");
  if (n === "email") return fc.uuid().map((u) => `fz-${u.slice(0, 8)}@example.com`);
  if (n === "password") return fc.constant("Correct horse 42 battery");
  if (n === "timezone") return fc.constantFrom("Asia/Kuala_Lumpur", "UTC");
  if (n === "merchant_category") return fc.constantFrom("food_beverage", "transport", "shopping");
  if (n.endsWith("_date") || n === "start" || n === "end")
    return fc.constantFrom("2026-03-01", "2026-12-01", "2026-03-01T00:00:00Z");
  if (n === "limit") return fc.constantFrom(1, 10, 50, 100);
  if (n === "offset") return fc.constantFrom(0, 1, 10);
  if (n === "cursor") return fc.constantFrom("", ...FORGED_CURSORS);
  if (n === "source" || n === "provider") return fc.constantFrom("visa", "paypal");
  return undefined;
}

/** A hostile replacement for one value: any text, any number, or another type. */
const hostile: fc.Arbitrary<Value> = fc.oneof(
  { weight: 3, arbitrary: nastyString() },
  { weight: 2, arbitrary: nastyNumber },
  { weight: 1, arbitrary: nastyNumber.map((n) => n.text) },
  { weight: 2, arbitrary: wrongType },
);

const MAX_DEPTH = 4;

/** A plausible value for `schema` (a field called `name`): the kind a well-behaved client sends. */
export function plausibleValue(
  schema: Schema,
  name: string,
  doc: OpenApiDocument,
  known: Known,
  depth = 0,
): fc.Arbitrary<Value> {
  const byName = plausibleFor(name, known);
  if (byName !== undefined) return byName;
  const resolved = resolve(schema, doc);
  if (resolved.enum !== undefined) return fc.constantFrom(...resolved.enum);
  const types = Array.isArray(resolved.type) ? resolved.type : [resolved.type ?? "object"];
  switch (types[0]) {
    case "string":
      if (resolved.pattern !== undefined) return fc.constantFrom("1.00", "45.50", "0.01");
      return fc.oneof(
        fc.constantFrom("Kopi Corner", "lunch", "note", "a"),
        fc.string({ unit: "grapheme", minLength: 1, maxLength: 20 }),
      );
    case "boolean":
      return fc.boolean();
    case "integer":
      return fc.integer({ min: 0, max: 100 });
    case "number":
      return fc.double({ min: 0, max: 1_000, noNaN: true });
    case "array":
      if (depth >= MAX_DEPTH || resolved.items === undefined) return fc.constant([]);
      return fc.array(plausibleValue(resolved.items, name, doc, known, depth + 1), { maxLength: 3 });
    default:
      return plausibleObject(resolved, doc, known, depth);
  }
}

function plausibleObject(
  schema: Schema,
  doc: OpenApiDocument,
  known: Known,
  depth: number,
): fc.Arbitrary<{ [key: string]: Value }> {
  const resolved = resolve(schema, doc);
  if (depth >= MAX_DEPTH) return fc.constant({});
  const model: Record<string, fc.Arbitrary<Value>> = {};
  for (const [key, prop] of Object.entries(resolved.properties ?? {}))
    model[key] = plausibleValue(prop, key, doc, known, depth + 1);
  const extra = resolved.additionalProperties;
  const map =
    typeof extra === "object"
      ? fc.dictionary(
          fc.string({ minLength: 1, maxLength: 10 }),
          plausibleValue(extra, "", doc, known, depth + 1),
          {
            maxKeys: 3,
          },
        )
      : fc.constant({});
  // Usually every field (most requests need their required ones), sometimes a subset.
  return fc
    .tuple(fc.oneof(fc.record(model), fc.record(model, { requiredKeys: [] })), map)
    .map(([fields, mapped]) => ({ ...mapped, ...(fields as { [key: string]: Value }) }));
}

/**
 * A request body for an object schema: a plausible one, then (usually) one mutation: a field replaced by a
 * hostile value (at any depth), an unknown or dangerous key added, or a field dropped.
 */
export function objectFor(
  schema: Schema,
  doc: OpenApiDocument,
  known: Known,
): fc.Arbitrary<{ [key: string]: Value }> {
  return fc
    .tuple(
      plausibleObject(schema, doc, known, 0),
      fc.nat(),
      fc.tuple(hostile, controlled, fc.boolean()),
      fc.constantFrom("replace", "replace", "replace", "add", "drop", "none"),
      fc.constantFrom("balance", "status", "user_id", "\u0000", "__proto__", "constructor", "ä".repeat(300)),
    )
    .map(([body, pick, [anyValue, text, preferText], how, unknownKey]) => {
      if (how === "none") return body;
      const value = anyValue;
      if (how === "add") return { ...body, [unknownKey]: value };
      const target = pickContainer(body, pick);
      const keys = Object.keys(target);
      const key = keys[pick % Math.max(keys.length, 1)];
      if (key === undefined) return { ...body, [unknownKey]: value };
      if (how === "drop") delete target[key];
      // Text fields get text with control characters in them half the time: it is what reaches a database.
      else target[key] = typeof target[key] === "string" && preferText ? text : value;
      return body;
    });
}

// Some object inside `body` (itself, or a nested one), chosen by `pick`.
function pickContainer(body: { [key: string]: Value }, pick: number): { [key: string]: Value } {
  const containers: Array<{ [key: string]: Value }> = [];
  const walk = (v: Value) => {
    if (v === null || typeof v !== "object" || v instanceof RawNumber) return;
    if (Array.isArray(v)) {
      for (const item of v) walk(item);
      return;
    }
    containers.push(v);
    for (const item of Object.values(v)) walk(item);
  };
  walk(body);
  return containers[pick % containers.length] ?? body;
}

function resolve(schema: Schema, doc: OpenApiDocument): Schema {
  let current = schema;
  for (let i = 0; i < 10 && current.$ref !== undefined; i++) {
    const name = current.$ref.split("/").pop() ?? "";
    current = doc.components.schemas[name] ?? {};
  }
  return current;
}

/** One request to send: method, path with query, headers and body. */
export interface FuzzRequest {
  method: string;
  /** Path and query string, already encoded. */
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
  /** For the report. */
  operation: string;
  principal: "anonymous" | "user" | "admin";
}

const MALFORMED_BODIES = [
  "{",
  '{"a":',
  "}",
  "[]",
  "null",
  "true",
  '"text"',
  "0",
  "{}}",
  '{"amount": 1e999999}',
  "\u0000",
  "\ufeff{}",
  '{"a":"\\u0000"}',
  '{"a":"\\ud800"}',
  "[".repeat(5_000),
  '{"__proto__":{"admin":true}}',
  '{"constructor":{"prototype":{"x":1}}}',
];

const CONTENT_TYPES = [
  "text/plain",
  "text/csv",
  "application/xml",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/json; charset=utf-16",
  "application/json\u0009x",
];

const RAW_SEGMENTS = ["%FF", "%ED%A0%80", "%C0%80", "%", "%zz", "%00", "..", ".", "%2e%2e", "a%2Fb", "%25"];

// Header values fetch can send: tab, printable ASCII and Latin-1, no other control characters.
const headerChar = fc
  .oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.constant(0x09), fc.integer({ min: 0x80, max: 0xff }))
  .map((c) => String.fromCharCode(c));
const headerText = fc.oneof(
  fc.string({ unit: headerChar, minLength: 1, maxLength: 40 }).filter((v) => v.trim() !== ""),
  fc.constantFrom("a\tb", "é", "x".repeat(256), "x".repeat(255), "\u00ff"),
);

/** Requests for `op`, with a path of known ids or hostile segments, a query, headers and a body. */
export function requestFor(op: Operation, doc: OpenApiDocument, known: Known): fc.Arbitrary<FuzzRequest> {
  const pathParams = op.parameters.filter((p) => p.in === "path");
  const queryParams = op.parameters.filter((p) => p.in === "query");
  // A path segment as sent: text percent-encoded, or raw bytes no encoder would write (invalid UTF-8,
  // an overlong NUL, a broken escape, dot segments).
  const segment = (p: Parameter): fc.Arbitrary<string> =>
    fc.oneof(
      {
        weight: 4,
        arbitrary: (plausibleFor(p.name, known) ?? fc.constantFrom(...known.ids)).map((v) =>
          encodeURIComponent(valueText(v)),
        ),
      },
      { weight: 2, arbitrary: nastyString(2_000).map((v) => encodeURIComponent(v.toWellFormed())) },
      { weight: 1, arbitrary: fc.constantFrom(...RAW_SEGMENTS) },
    );
  const path = fc
    .tuple(...pathParams.map((p) => segment(p)))
    .map((values) => pathParams.reduce((acc, p, i) => acc.replace(`{${p.name}}`, values[i] ?? ""), op.path));
  // Plausible values for a few parameters, then maybe one of them hostile, maybe an unknown one added.
  const query = fc
    .tuple(
      fc.subarray(queryParams, { maxLength: Math.min(4, queryParams.length) }),
      fc.option(fc.tuple(fc.nat(), hostile, controlled, fc.boolean()), { freq: 2 }),
      fc.oneof(
        { weight: 9, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.tuple(nastyString(50), nastyString(50)) },
      ),
    )
    .chain(([chosen, mutation, extra]) =>
      fc.tuple(...chosen.map((p) => plausibleValue(p.schema, p.name, doc, known))).map((values) => {
        if (mutation !== null && values.length > 0) {
          const i = mutation[0] % values.length;
          values[i] = typeof values[i] === "string" && mutation[3] ? mutation[2] : mutation[1];
        }
        const search = new URLSearchParams();
        chosen.forEach((p, i) => {
          search.append(p.name, valueText(values[i] ?? ""));
        });
        if (extra !== null) search.append(extra[0], extra[1]);
        const text = search.toString();
        return text === "" ? "" : `?${text}`;
      }),
    );
  const body: fc.Arbitrary<{ text: string | undefined; contentType: string | undefined }> =
    op.body === undefined
      ? fc.oneof(
          { weight: 8, arbitrary: fc.constant({ text: undefined, contentType: undefined }) },
          { weight: 1, arbitrary: fc.constant({ text: '{"x":1}', contentType: "application/json" }) },
        )
      : fc.oneof(
          {
            weight: 8,
            arbitrary: (op.body.type === "string"
              ? fc.oneof(
                  fc.constant(
                    "timestamp,type,provider,amount\n2026-03-01T10:00:00Z,deposit,visa,10.00\n" as Value,
                  ),
                  nastyString(),
                )
              : objectFor(op.body, doc, known)
            ).map((v) => ({ text: jsonText(v), contentType: "application/json" })),
          },
          {
            weight: 1,
            arbitrary: fc
              .constantFrom(...MALFORMED_BODIES)
              .map((text) => ({ text, contentType: "application/json" })),
          },
          {
            weight: 1,
            arbitrary: fc
              .tuple(
                fc.constantFrom(...MALFORMED_BODIES, "a,b\n1,\u0000\n"),
                fc.constantFrom(...CONTENT_TYPES),
              )
              .map(([text, contentType]) => ({ text, contentType })),
          },
        );
  return (
    fc
      .record({
        path,
        query,
        body,
        principal: fc.constantFrom("anonymous", "user", "user", "admin") as fc.Arbitrary<
          FuzzRequest["principal"]
        >,
        idempotencyKey: fc.oneof(
          { weight: 3, arbitrary: fc.constant(null) },
          { weight: 3, arbitrary: fc.uuid() },
          { weight: 1, arbitrary: headerText },
        ),
        requestId: fc.oneof(
          { weight: 4, arbitrary: fc.constant(null) },
          { weight: 1, arbitrary: fc.uuid() },
          { weight: 1, arbitrary: headerText },
        ),
      })
      // A URL over Node's 16 KiB header limit is answered 431 (tested on a raw socket in input-hardening.test.ts),
      // but the early close races fetch's upload, which then reports a reset instead of the answer.
      .filter(({ path: p, query: q }) => p.length + q.length <= 12_000)
      .map(({ path: p, query: q, body: b, principal, idempotencyKey, requestId }) => {
        const headers: Record<string, string> = {};
        if (b.contentType !== undefined) headers["content-type"] = b.contentType;
        if (idempotencyKey !== null) headers["idempotency-key"] = idempotencyKey;
        if (requestId !== null) headers["x-request-id"] = requestId;
        return {
          method: op.method,
          url: `${p}${q}`,
          headers,
          body: b.text,
          operation: `${op.method} ${op.path}`,
          principal,
        };
      })
  );
}

function valueText(value: Value): string {
  if (value instanceof RawNumber) return value.text;
  if (typeof value === "string") return value;
  return jsonText(value);
}
