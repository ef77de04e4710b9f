import type { DescField, DescMessage, Message } from "@bufbuild/protobuf";
import { ScalarType } from "@bufbuild/protobuf";
import type { ValidationIssue } from "./validation-issue.js";

// Control characters (Unicode Cc: C0, DEL, C1) other than tab, line feed and carriage return, which free
// text and CSV legitimately hold. NUL in particular is refused by Postgres ("invalid byte sequence"), and
// the others have no business in names, ids or notes: they only hide text from the people who read it.
// Each is a single UTF-16 code unit.
function firstControl(value: string): number {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || (c >= 0x7f && c <= 0x9f)) return i;
  }
  return -1;
}

/** Why a string is refused, or undefined when it is acceptable text. */
export function textProblem(value: string): string | undefined {
  const at = firstControl(value);
  if (at >= 0) {
    const code = value.charCodeAt(at).toString(16).toUpperCase().padStart(4, "0");
    return `must not contain control characters (U+${code} at position ${at})`;
  }
  // A lone surrogate cannot be encoded as UTF-8: protobuf would silently turn it into U+FFFD.
  if (!value.isWellFormed()) return "must be well-formed Unicode (no lone surrogates)";
  return undefined;
}

/**
 * Every string in `message` (fields, list elements, map keys and values, nested messages, oneofs) that is not
 * acceptable text (see {@link textProblem}), as issues naming the field by its snake_case path:
 * `merchant_name`, `tags[2]`, `metadata.key`, `transfer.description`. At most one issue per field path.
 */
export function textIssues(desc: DescMessage, message: Message, path = ""): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  walkMessage(desc, message, path, issues);
  return issues;
}

type Fields = Readonly<Record<string, unknown>>;

function walkMessage(desc: DescMessage, message: Message, path: string, issues: ValidationIssue[]): void {
  const fields = message as unknown as Fields;
  for (const field of desc.fields) {
    const value = fieldValue(fields, field);
    if (value === undefined) continue;
    walkField(field, value, path === "" ? field.name : `${path}.${field.name}`, issues);
  }
}

// A oneof member lives under the oneof's name as { case, value }.
function fieldValue(fields: Fields, field: DescField): unknown {
  if (field.oneof === undefined) return fields[field.localName];
  const holder = fields[field.oneof.localName] as { case?: string; value?: unknown } | undefined;
  return holder?.case === field.localName ? holder.value : undefined;
}

function walkField(field: DescField, value: unknown, path: string, issues: ValidationIssue[]): void {
  switch (field.fieldKind) {
    case "scalar":
      if (field.scalar === ScalarType.STRING) checkString(value, path, issues);
      return;
    case "enum":
      return;
    case "message":
      walkMessage(field.message, value as Message, path, issues);
      return;
    case "list":
      if (!Array.isArray(value)) return;
      value.forEach((item: unknown, i) => {
        if (field.listKind === "scalar" && field.scalar === ScalarType.STRING)
          checkString(item, `${path}[${i}]`, issues);
        else if (field.listKind === "message")
          walkMessage(field.message, item as Message, `${path}[${i}]`, issues);
      });
      return;
    case "map":
      for (const [key, item] of Object.entries(value as Fields)) {
        const problem = textProblem(key);
        if (problem !== undefined) {
          issues.push({ field: path, message: `key ${problem}` });
          continue;
        }
        if (field.mapKind === "scalar" && field.scalar === ScalarType.STRING)
          checkString(item, `${path}.${key}`, issues);
        else if (field.mapKind === "message")
          walkMessage(field.message, item as Message, `${path}.${key}`, issues);
      }
      return;
  }
}

function checkString(value: unknown, path: string, issues: ValidationIssue[]): void {
  if (typeof value !== "string") return;
  const problem = textProblem(value);
  if (problem !== undefined) issues.push({ field: path, message: problem });
}
