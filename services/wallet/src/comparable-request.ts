import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { clone, ScalarType } from "@bufbuild/protobuf";
import { reflect } from "@bufbuild/protobuf/reflect";

const DECIMAL = /^(\d+)(?:\.(\d*))?$/;

/**
 * One written form per decimal amount: "1", "1.0" and "1.00" -> "1.00"; "0.125" and "01.5" -> "0.125" and
 * "1.50". At least two decimals, so the usual "45.50" keeps the form (and the hash) it always had. Text that is
 * not a decimal is left as it is (validation refuses it).
 */
export function canonicalAmount(value: string): string {
  const m = DECIMAL.exec(value);
  if (m === null) return value;
  const whole = (m[1] ?? "").replace(/^0+(?=\d)/, "");
  const fraction = (m[2] ?? "").replace(/0+$/, "").padEnd(2, "0");
  return `${whole}.${fraction}`;
}

/**
 * The request as idempotency compares it: its amount fields (`amount`, `*_amount`) in canonical form, so the
 * same amount sent as the JSON number 1.0 and as "1.00" is the same request.
 */
export function comparableRequest<I extends DescMessage>(desc: I, request: MessageShape<I>): MessageShape<I> {
  const copy = clone(desc, request);
  const r = reflect(desc, copy);
  for (const field of desc.fields) {
    if (field.fieldKind !== "scalar" || field.scalar !== ScalarType.STRING) continue;
    if (field.name !== "amount" && !field.name.endsWith("_amount")) continue;
    const value = r.get(field);
    if (typeof value === "string" && value !== "") r.set(field, canonicalAmount(value));
  }
  return copy;
}
