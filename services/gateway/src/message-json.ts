import type { DescEnum, DescField, DescMessage, JsonObject, JsonValue, Message } from "@bufbuild/protobuf";
import { fromJson, ScalarType } from "@bufbuild/protobuf";
import type { Leaf } from "@fintech/platform";
import {
  enumNames,
  INT64_SCALARS,
  isMoneyField,
  isWellKnown,
  leafOf,
  restJson,
  textProblem,
} from "@fintech/platform";
import { validationError } from "./errors.js";

// The REST words of enums, the kinds of fields and the response writer are libs/platform's (rest-json.ts), which
// webhooks share; the request side is the gateway's own.
export { enumNames, isMoneyField, isWellKnown, leafOf };

/**
 * The REST JSON mapping, on top of protobuf's canonical JSON: proto field names (snake_case) only, unknown
 * fields refused, enums as lower-case words without the enum's prefix ("USER_STATUS_ACTIVE" <-> "active"; the
 * zero value is never shown or accepted), money fields (`(fintech.api.v1.field).money` in the proto) accepting a
 * JSON number, taken digit for digit from the request text, and response fields marked `omit_empty` left out
 * when empty.
 */

/** A JSON number kept as its source text, so money and 64-bit integers keep every digit. */
export class JsonNumber {
  constructor(readonly source: string) {}
}

/** A parsed request body: JSON with every number as a {@link JsonNumber}. */
export type Input = null | boolean | string | JsonNumber | Input[] | { [key: string]: Input };

type Reviver = (this: unknown, key: string, value: unknown, context?: { source?: string }) => unknown;
const keepNumberText: Reviver = (_key, value, context) =>
  typeof value === "number" ? new JsonNumber(context?.source ?? String(value)) : value;

/** Parses a request body; throws SyntaxError for malformed JSON. */
export function parseJson(text: string): Input {
  return JSON.parse(text, keepNumberText as (this: unknown, key: string, value: unknown) => unknown) as Input;
}

const DECIMAL = /^-?\d+(\.\d+)?$/;
const INTEGER = /^-?\d+$/;

const INT32 = new Set([
  ScalarType.INT32,
  ScalarType.SINT32,
  ScalarType.SFIXED32,
  ScalarType.UINT32,
  ScalarType.FIXED32,
]);
const UNSIGNED = new Set([ScalarType.UINT32, ScalarType.FIXED32, ScalarType.UINT64, ScalarType.FIXED64]);

/**
 * Converts a request body (or part of one) for message `desc` into protobuf JSON, refusing with a
 * VALIDATION_ERROR naming the field (`path`) on the first unknown field or badly typed value. Fields in
 * `exclude` (bound by the URL path) are refused too.
 */
export function readMessage(
  desc: DescMessage,
  input: Input,
  path = "",
  exclude?: ReadonlySet<string>,
): JsonObject {
  if (input === null || typeof input !== "object" || Array.isArray(input) || input instanceof JsonNumber) {
    throw validationError(path || "body", `${path || "the body"} must be a JSON object`);
  }
  const out: JsonObject = {};
  const oneofs = new Map<string, string>();
  for (const [key, value] of Object.entries(input)) {
    const fieldPath = path === "" ? key : `${path}.${key}`;
    const field = desc.fields.find((f) => f.name === key);
    if (field === undefined) throw validationError(fieldPath, `unknown field "${fieldPath}"`);
    if (exclude?.has(key)) throw validationError(fieldPath, `"${fieldPath}" is taken from the URL path`);
    if (value === null) continue;
    if (field.oneof !== undefined) {
      const other = oneofs.get(field.oneof.name);
      if (other !== undefined) {
        throw validationError(fieldPath, `"${fieldPath}" and "${other}" cannot both be set`);
      }
      oneofs.set(field.oneof.name, fieldPath);
    }
    out[key] = readField(field, value, fieldPath);
  }
  return out;
}

/** Converts one field's value (a whole list or map for repeated and map fields). */
export function readField(field: DescField, value: Input, path: string): JsonValue {
  const leaf = leafOf(field);
  if (field.fieldKind === "list") {
    if (!Array.isArray(value)) throw validationError(path, `${path} must be an array`);
    return value.map((v, i) => readLeaf(leaf, v, `${path}[${i}]`));
  }
  if (field.fieldKind === "map") {
    if (value === null || typeof value !== "object" || Array.isArray(value) || value instanceof JsonNumber) {
      throw validationError(path, `${path} must be an object`);
    }
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) {
      const problem = textProblem(k);
      if (problem !== undefined) throw validationError(path, `${path} key ${problem}`);
      out[k] = readLeaf(leaf, v, `${path}.${k}`);
    }
    return out;
  }
  return readLeaf(leaf, value, path);
}

function readLeaf(leaf: Leaf, value: Input, path: string): JsonValue {
  switch (leaf.kind) {
    case "enum":
      if (typeof value !== "string") throw enumError(leaf.desc, path);
      return enumNumber(leaf.desc, value, path);
    case "message":
      if (isWellKnown(leaf.desc)) return checkWellKnown(leaf.desc, plain(value), path);
      return readMessage(leaf.desc, value, path);
    case "scalar":
      return readScalar(leaf, value, path);
  }
}

function readScalar(leaf: Extract<Leaf, { kind: "scalar" }>, value: Input, path: string): JsonValue {
  const { scalar } = leaf;
  if (scalar === ScalarType.STRING) {
    if (typeof value === "string") return checkedText(value, path);
    if (leaf.money && value instanceof JsonNumber) {
      if (DECIMAL.test(value.source)) return value.source;
      throw validationError(path, `${path} must be a decimal such as "45.50"`);
    }
    throw validationError(
      path,
      leaf.money ? `${path} must be a decimal string such as "45.50"` : `${path} must be a string`,
    );
  }
  if (scalar === ScalarType.BOOL) {
    if (typeof value === "boolean") return value;
    throw validationError(path, `${path} must be true or false`);
  }
  if (scalar === ScalarType.BYTES) {
    if (typeof value === "string") return value;
    throw validationError(path, `${path} must be a base64 string`);
  }
  const text = value instanceof JsonNumber ? value.source : typeof value === "string" ? value : undefined;
  if (text === undefined) throw validationError(path, `${path} must be a number`);
  return numberFromText(scalar, text, path);
}

/** Text for a string field, refused (naming the field) when it holds control characters or lone surrogates. */
function checkedText(value: string, path: string): string {
  const problem = textProblem(value);
  if (problem !== undefined) throw validationError(path, `${path} ${problem}`);
  return value;
}

/** Converts a number given as text (a JSON number's source, a query parameter, a path segment). */
function numberFromText(scalar: ScalarType, text: string, path: string): JsonValue {
  if (INT32.has(scalar) || INT64_SCALARS.has(scalar)) {
    if (!INTEGER.test(text)) throw validationError(path, `${path} must be an integer`);
    const n = BigInt(text);
    const unsigned = UNSIGNED.has(scalar);
    const bits = INT64_SCALARS.has(scalar) ? 64n : 32n;
    const min = unsigned ? 0n : -(1n << (bits - 1n));
    const max = unsigned ? (1n << bits) - 1n : (1n << (bits - 1n)) - 1n;
    if (n < min || n > max) throw validationError(path, `${path} must be an integer from ${min} to ${max}`);
    return bits === 64n ? n.toString() : Number(n);
  }
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n)) throw validationError(path, `${path} must be a number`);
  return n;
}

/**
 * Converts a query parameter or path variable to the protobuf JSON value of one element of `field`:
 * numbers, booleans ("true"/"false") and enum words are parsed, everything else stays a string.
 */
export function readText(field: DescField, text: string, path: string): JsonValue {
  const leaf = leafOf(field);
  switch (leaf.kind) {
    case "enum":
      return enumNumber(leaf.desc, text, path);
    case "message":
      // Only well-known types with a string form (Timestamp, Duration, FieldMask, wrappers) reach here.
      return checkWellKnown(leaf.desc, text, path);
    case "scalar":
      if (leaf.scalar === ScalarType.STRING) return checkedText(text, path);
      if (leaf.scalar === ScalarType.BYTES) return text;
      if (leaf.scalar === ScalarType.BOOL) {
        if (text === "true") return true;
        if (text === "false") return false;
        throw validationError(path, `${path} must be true or false`);
      }
      return numberFromText(leaf.scalar, text, path);
  }
}

function enumNumber(desc: DescEnum, word: string, path: string): number {
  const n = enumNames(desc).byName.get(word.toLowerCase());
  if (n === undefined) throw enumError(desc, path);
  return n;
}

function enumError(desc: DescEnum, path: string) {
  const allowed = enumNames(desc).names.join(", ");
  return validationError(path, `${path} must be one of: ${allowed}`, { allowed });
}

function checkWellKnown(desc: DescMessage, value: JsonValue, path: string): JsonValue {
  try {
    fromJson(desc, value);
  } catch {
    const expected =
      desc.typeName === "google.protobuf.Timestamp"
        ? ' an RFC 3339 time such as "2026-03-01T08:00:00Z"'
        : ` a valid ${desc.name}`;
    throw validationError(path, `${path} must be${expected}`, {});
  }
  return value;
}

/** Back to plain JSON values (numbers as numbers), for well-known types protobuf parses itself. */
function plain(value: Input): JsonValue {
  if (value instanceof JsonNumber) return Number(value.source);
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) out[k] = plain(v);
    return out;
  }
  return value;
}

/** Builds the request message from converted JSON; anything protobuf still refuses is the client's error. */
export function toMessage<Desc extends DescMessage>(desc: Desc, json: JsonObject): Message {
  try {
    return fromJson(desc, json);
  } catch (err) {
    throw validationError("body", err instanceof Error ? err.message : "invalid request");
  }
}

/**
 * A response message as REST JSON (libs/platform's restJson): proto field names, every implicit-presence field
 * present except an empty `omit_empty` one, enums as lower-case words, 64-bit integers as numbers while exact.
 */
export const writeMessage = restJson;
