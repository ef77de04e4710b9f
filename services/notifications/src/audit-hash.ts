import { createHash } from "node:crypto";
import type { AuditRecordRow } from "./audit-store.js";

/** The hash before the first record: 32 zero bytes. */
export const GENESIS_HASH: Buffer = Buffer.alloc(32);

/** A value as canonical JSON: object keys sorted, no spaces, so equal values always hash alike. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

/** A chain link: SHA-256 of the previous link's hash followed by the record's canonical JSON. */
export function linkHash(prevHash: Buffer, record: unknown): Buffer {
  return createHash("sha256").update(prevHash).update(canonicalJson(record)).digest();
}

/** What the chain hashes of a stored record: every column, times as the exact text Postgres keeps. */
export function recordContent(r: AuditRecordRow): unknown {
  return {
    seq: r.seq.toString(),
    event_id: r.eventId,
    service: r.service,
    action: r.action,
    actor: { kind: r.actorKind, id: r.actorId, roles: r.actorRoles, credential: r.actorCredential },
    request_id: r.requestId,
    client_ip: r.clientIp,
    subject_type: r.subjectType,
    subject_id: r.subjectId,
    before: r.before ?? null,
    after: r.after ?? null,
    occurred_at: r.occurredAtText,
    recorded_at: r.recordedAtText,
  };
}
