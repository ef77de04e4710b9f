import { createHash } from "node:crypto";

/**
 * A UUID (version 8, RFC 9562's custom layout) derived from `name` by SHA-256: the same name always gives the same
 * id. For ids that a retry, a replica or a second import must write again identically, so that the unique key
 * they land on applies the work once: the ledger transfers of a wallet transaction's steps, the ledger's void of
 * a timed-out transfer, the events of an imported file's rows.
 */
export function derivedId(name: string): string {
  const bytes = createHash("sha256").update(name).digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
