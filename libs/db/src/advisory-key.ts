/**
 * The two int4 keys of the advisory lock named by the SQL text parameter `param` (e.g. `"$1"`):
 * `hashtext(current_schema()), hashtext(name)`. A name is one lock per schema, so services (and test files)
 * sharing a database never contend, and the two-key form never meets migrate()'s one-key locks.
 */
export function advisoryKey(param: string): string {
  return `hashtext(current_schema()), hashtext(${param})`;
}
