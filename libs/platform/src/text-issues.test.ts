import { create } from "@bufbuild/protobuf";
import { StructSchema, ValueSchema } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { textIssues, textProblem } from "./text-issues.js";

describe("textProblem", () => {
  it.each(["", "Kopi Corner", "Ana Lee", "line one\nline two\r\n\tindented", "naïve café 😀", "日本語"])(
    "accepts %j",
    (value) => {
      expect(textProblem(value)).toBeUndefined();
    },
  );

  it.each([
    ["\u0000", "U+0000"],
    ["abc\u0000", "U+0000 at position 3"],
    ["\u0007bell", "U+0007"],
    ["\u001b[31mred", "U+001B"],
    ["\u007f", "U+007F"],
    ["\u0085", "U+0085"],
  ])("refuses %j naming the character", (value, named) => {
    expect(textProblem(value)).toContain(named);
  });

  it("refuses lone surrogates, which UTF-8 cannot carry", () => {
    expect(textProblem("\ud800")).toMatch(/well-formed/);
    expect(textProblem("a\udc00b")).toMatch(/well-formed/);
  });
});

describe("textIssues", () => {
  // Struct has a map, a oneof, nested messages and a list: every shape a request message can have.
  const struct = (fields: Record<string, ReturnType<typeof create<typeof ValueSchema>>>) =>
    create(StructSchema, { fields });
  const text = (s: string) => create(ValueSchema, { kind: { case: "stringValue", value: s } });

  it("finds nothing in clean text", () => {
    expect(textIssues(StructSchema, struct({ name: text("Ana\nLee") }))).toEqual([]);
  });

  it("names a field inside a map value's oneof by its snake_case path", () => {
    expect(textIssues(StructSchema, struct({ name: text("A\u0000") }))).toEqual([
      { field: "fields.name.string_value", message: expect.stringContaining("U+0000") },
    ]);
  });

  it("finds control characters in list elements and in map keys", () => {
    const list = create(ValueSchema, {
      kind: { case: "listValue", value: { values: [text("ok"), text("\u0001")] } },
    });
    expect(textIssues(StructSchema, struct({ tags: list })).map((i) => i.field)).toEqual([
      "fields.tags.list_value.values[1].string_value",
    ]);
    expect(textIssues(StructSchema, struct({ "k\u0000": text("ok") })).map((i) => i.field)).toEqual([
      "fields",
    ]);
  });
});
