import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { hotField } from "./counter-codec.js";
import { fraudField, PLATFORM_TYPES, platformField, USER_KINDS, userField } from "./counter-fields.js";

describe("counter field names", () => {
  test("are the names Redis and Postgres already hold", () => {
    expect(userField.encode({ kind: "purchase", category: "groceries", currency: "MYR", metric: "a" })).toBe(
      "purchase|groceries|MYR|a",
    );
    expect(userField.encode({ kind: "top_up", category: "", currency: "USD", metric: "n" })).toBe(
      "top_up||USD|n",
    );
    expect(platformField.encode({ type: "transfer", provider: "", currency: "MYR", metric: "b" })).toBe(
      "transfer||MYR|b",
    );
    expect(fraudField.encode({ counter: "scored", metric: "n" })).toBe("scored|n");
    expect(fraudField.encode({ counter: "score", metric: "sum" })).toBe("score|sum");
    expect(fraudField.encode({ counter: "decision", decision: "approve", metric: "b" })).toBe(
      "decision|approve|b",
    );
    expect(fraudField.encode({ counter: "rule_decision", decision: "review", metric: "n" })).toBe(
      "rule_decision|review|n",
    );
    expect(fraudField.encode({ counter: "flag", rule: "VELOCITY", metric: "n" })).toBe("flag|VELOCITY|n");
    expect(fraudField.encode({ counter: "bucket", bucket: "7", metric: "n" })).toBe("bucket|7|n");
    expect(fraudField.encode({ counter: "review", decision: "reject", metric: "n" })).toBe("review|reject|n");
    const field = userField.encode({ kind: "refund", category: "food", currency: "MYR", metric: "b" });
    expect(hotField.encode("2026-03-01", field)).toBe("2026-03-01|refund|food|MYR|b");
  });

  test("read back as the key that was written, a '|' in free text read as '_'", () => {
    const text = fc.string({ maxLength: 12 });
    fc.assert(
      fc.property(
        fc.constantFrom(...USER_KINDS),
        text,
        text,
        fc.constantFrom("n", "a", "b"),
        (kind, category, currency, metric) => {
          const key = { kind, category, currency, metric } as const;
          expect(userField.decode(userField.encode(key))).toEqual({
            ...key,
            category: category.replaceAll("|", "_"),
            currency: currency.replaceAll("|", "_"),
          });
        },
      ),
    );
    fc.assert(
      fc.property(fc.constantFrom(...PLATFORM_TYPES), text, (type, provider) => {
        const key = { type, provider, currency: "MYR", metric: "n" } as const;
        expect(platformField.decode(platformField.encode(key))).toEqual({
          ...key,
          provider: provider.replaceAll("|", "_"),
        });
      }),
    );
    fc.assert(
      fc.property(text, (rule) => {
        expect(fraudField.decode(fraudField.encode({ counter: "flag", rule, metric: "n" }))).toEqual({
          counter: "flag",
          rule: rule.replaceAll("|", "_"),
          metric: "n",
        });
      }),
    );
    const field = platformField.encode({ type: "purchase", provider: "visa", currency: "MYR", metric: "a" });
    expect(hotField.decode(hotField.encode("2026-03-01", field))).toEqual({ day: "2026-03-01", field });
  });

  test("of another layout or with unknown words are not read", () => {
    expect(userField.decode("scored|n")).toBeUndefined();
    expect(userField.decode("gift|food|MYR|n")).toBeUndefined();
    expect(userField.decode("purchase|food|MYR|x")).toBeUndefined();
    expect(platformField.decode("transfer_out||MYR|n")).toBeUndefined();
    expect(fraudField.decode("purchase|food|MYR|n")).toBeUndefined();
    expect(fraudField.decode("bucket|10|n")).toBeUndefined();
    expect(fraudField.decode("score|n")).toBeUndefined();
    expect(hotField.decode("*")).toBeUndefined();
  });
});
