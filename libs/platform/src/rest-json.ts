import type { DescEnum, DescField, DescMessage, JsonObject, JsonValue, Message } from "@bufbuild/protobuf";
import { getOption, ScalarType, toJson } from "@bufbuild/protobuf";
import type { Field } from "@fintech/proto/fintech/api/v1/options_pb.js";
import { field as fieldExtension } from "@fintech/proto/fintech/api/v1/options_pb.js";

// The REST JSON of a message, as the gateway answers and as a webhook carries it: protobuf's canonical JSON with
// proto field names, enums as lower-case words without the enum's prefix, 64-bit counts as numbers while exact,
// and `omit_empty` fields left out when empty (proto/fintech/api/v1/options.proto).

const fields = new WeakMap<DescField, Field>();

/** A field's REST options (money, required, enum_words, omit_empty, minimum, maximum); defaults when unset. */
export function restFieldOptions(field: DescField): Field {
  let options = fields.get(field);
  if (options === undefined) {
    options = getOption(field, fieldExtension);
    fields.set(field, options);
  }
  return options;
}

/** True for the string fields that carry money or rates as decimal strings: `(fintech.api.v1.field).money`. */
export function isMoneyField(field: DescField): boolean {
  if (field.fieldKind !== "scalar" || field.scalar !== ScalarType.STRING) return false;
  return restFieldOptions(field).money;
}

/** An enum's REST words both ways. */
export interface EnumNames {
  byNumber: Map<number, string>;
  byName: Map<string, number>;
  /** The accepted words, in declaration order, zero value excluded. */
  names: string[];
}
const enumCache = new WeakMap<DescEnum, EnumNames>();

/** The REST words of an enum: "USER_STATUS_ACTIVE" -> "active". */
export function enumNames(desc: DescEnum): EnumNames {
  let names = enumCache.get(desc);
  if (names !== undefined) return names;
  const prefix = desc.sharedPrefix ?? "";
  names = { byNumber: new Map(), byName: new Map(), names: [] };
  for (const v of desc.values) {
    if (v.number === 0) continue;
    const lower = v.name.toLowerCase();
    const word = lower.startsWith(prefix) ? lower.slice(prefix.length) : lower;
    if (!names.byNumber.has(v.number)) names.byNumber.set(v.number, word);
    names.byName.set(word, v.number);
    names.names.push(word);
  }
  enumCache.set(desc, names);
  return names;
}

/** What one value of a field is: a field's value, a list element or a map value. */
export type Leaf =
  | { kind: "scalar"; scalar: ScalarType; money: boolean }
  | { kind: "enum"; desc: DescEnum }
  | { kind: "message"; desc: DescMessage };

/** The kind of one value of `field` (for lists and maps: of one element). */
export function leafOf(field: DescField): Leaf {
  switch (field.fieldKind) {
    case "scalar":
      return { kind: "scalar", scalar: field.scalar, money: isMoneyField(field) };
    case "enum":
      return { kind: "enum", desc: field.enum };
    case "message":
      return { kind: "message", desc: field.message };
    case "list":
      if (field.listKind === "scalar") return { kind: "scalar", scalar: field.scalar, money: false };
      return field.listKind === "enum"
        ? { kind: "enum", desc: field.enum }
        : { kind: "message", desc: field.message };
    case "map":
      if (field.mapKind === "scalar") return { kind: "scalar", scalar: field.scalar, money: false };
      return field.mapKind === "enum"
        ? { kind: "enum", desc: field.enum }
        : { kind: "message", desc: field.message };
  }
}

/** True for google.protobuf's well-known types, whose JSON is their own (a Timestamp is an RFC 3339 string). */
export const isWellKnown = (desc: DescMessage): boolean => desc.typeName.startsWith("google.protobuf.");

/** The 64-bit integer scalar types, whose REST JSON is a number where protobuf JSON has a string. */
export const INT64_SCALARS: ReadonlySet<ScalarType> = new Set([
  ScalarType.INT64,
  ScalarType.SINT64,
  ScalarType.SFIXED64,
  ScalarType.UINT64,
  ScalarType.FIXED64,
]);

// 64-bit integers on this platform are counts (money is always a decimal string), so REST shows them as
// JSON numbers while they are exact in one (below 2^53), unlike protobuf JSON's strings.
const isInt64 = (leaf: Leaf) => leaf.kind === "scalar" && INT64_SCALARS.has(leaf.scalar);

// Messages that contain an enum, a 64-bit integer or an omit_empty field somewhere, so responses without one skip
// the second walk.
const rewriteBearing = new WeakMap<DescMessage, boolean>();
function needsRewrite(desc: DescMessage, seen = new Set<DescMessage>()): boolean {
  const known = rewriteBearing.get(desc);
  if (known !== undefined) return known;
  if (seen.has(desc)) return false;
  seen.add(desc);
  const result = desc.fields.some((f) => {
    const leaf = leafOf(f);
    return (
      leaf.kind === "enum" ||
      isInt64(leaf) ||
      restFieldOptions(f).omitEmpty ||
      (leaf.kind === "message" && !isWellKnown(leaf.desc) && needsRewrite(leaf.desc, seen))
    );
  });
  rewriteBearing.set(desc, result);
  return result;
}

function int64Number(value: JsonValue): JsonValue {
  if (typeof value !== "string") return value;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value;
}

/**
 * A message as REST JSON: proto field names, every implicit-presence field present (false, 0, "", [] included,
 * so clients see `has_more: false`) except an empty `omit_empty` field (one that does not apply, such as the rate
 * of a transaction without conversion), enums as lower-case words, an unset enum left out, 64-bit integers as
 * numbers while exact.
 */
export function restJson(desc: DescMessage, message: Message): JsonObject {
  const json = toJson(desc, message, { useProtoFieldName: true, alwaysEmitImplicit: true }) as JsonObject;
  if (needsRewrite(desc)) rewrite(desc, json);
  return json;
}

function rewrite(desc: DescMessage, json: JsonObject): void {
  for (const field of desc.fields) {
    const value = json[field.name];
    if (value === undefined || value === null) continue;
    if (value === "" && restFieldOptions(field).omitEmpty) {
      delete json[field.name];
      continue;
    }
    const leaf = leafOf(field);
    if (isInt64(leaf)) {
      if (field.fieldKind === "list" && Array.isArray(value)) json[field.name] = value.map(int64Number);
      else if (field.fieldKind === "map" && typeof value === "object" && !Array.isArray(value)) {
        for (const [k, v] of Object.entries(value)) value[k] = int64Number(v);
      } else json[field.name] = int64Number(value);
    } else if (leaf.kind === "enum") {
      if (field.fieldKind === "list" && Array.isArray(value)) {
        json[field.name] = value.map((v) => enumWord(leaf.desc, v)).filter((v) => v !== undefined);
      } else if (field.fieldKind === "map" && typeof value === "object" && !Array.isArray(value)) {
        for (const [k, v] of Object.entries(value)) value[k] = enumWord(leaf.desc, v) ?? null;
      } else {
        const word = enumWord(leaf.desc, value);
        if (word === undefined) delete json[field.name];
        else json[field.name] = word;
      }
    } else if (leaf.kind === "message" && !isWellKnown(leaf.desc) && needsRewrite(leaf.desc)) {
      const items =
        field.fieldKind === "list" && Array.isArray(value)
          ? value
          : field.fieldKind === "map" && typeof value === "object" && !Array.isArray(value)
            ? Object.values(value)
            : [value];
      for (const item of items) {
        if (item !== null && typeof item === "object" && !Array.isArray(item)) rewrite(leaf.desc, item);
      }
    }
  }
}

function enumWord(desc: DescEnum, value: JsonValue): string | undefined {
  const v = desc.values.find((e) => e.name === value || e.number === value);
  return v === undefined ? undefined : enumNames(desc).byNumber.get(v.number);
}
