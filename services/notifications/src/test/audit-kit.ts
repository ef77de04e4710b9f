import { randomUUID } from "node:crypto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { AuditEntrySchema } from "@fintech/proto/fintech/audit/v1/audit_pb.js";
import { waitFor } from "@fintech/testing";
import type { NotificationsHarness } from "./harness.js";
import { publishAuditEntry } from "./harness.js";

// What the audit tests share: entries as producers publish them, and the database seen from below.

export type EntryInit = MessageInitShape<typeof AuditEntrySchema>;

export const adminActs = (subjectId: string, more: Omit<EntryInit, "$typeName"> = {}): EntryInit => ({
  action: "identity.update_user_status",
  actor: { kind: "user", id: "admin-7", roles: ["user", "admin"], credential: "jwt" },
  requestId: `req-${randomUUID()}`,
  clientIp: "203.0.113.7",
  subjectType: "user",
  subjectId,
  before: { status: "active" },
  after: { status: "suspended" },
  occurredAt: timestampFromDate(new Date("2026-03-02T03:00:00Z")),
  ...more,
});

/** Publishes `entries` from `service`, then waits until every one is stored; returns their event ids. */
export async function record(
  h: NotificationsHarness,
  service: string,
  entries: EntryInit[],
): Promise<string[]> {
  const ids: string[] = [];
  for (const e of entries) ids.push(await publishAuditEntry(h, service, e));
  await waitFor(async () => {
    const { rows } = await h.pool.query("SELECT 1 FROM audit_records WHERE event_id = ANY($1)", [ids]);
    return rows.length === ids.length;
  });
  return ids;
}

export async function seqsOf(h: NotificationsHarness, eventIds: string[]): Promise<bigint[]> {
  const { rows } = await h.pool.query<{ seq: bigint }>(
    "SELECT seq FROM audit_records WHERE event_id = ANY($1) ORDER BY seq",
    [eventIds],
  );
  return rows.map((r) => r.seq);
}

/** Runs `sql` as the database owner with the audit tables' triggers off, as only someone tampering would. */
export async function tamper(h: NotificationsHarness, sql: string, values: unknown[] = []): Promise<void> {
  const client = await h.pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("ALTER TABLE audit_records DISABLE TRIGGER USER");
    await client.query("ALTER TABLE audit_chain DISABLE TRIGGER USER");
    await client.query(sql, values);
    await client.query("ALTER TABLE audit_records ENABLE TRIGGER USER");
    await client.query("ALTER TABLE audit_chain ENABLE TRIGGER USER");
    await client.query("COMMIT");
  } finally {
    client.release();
  }
}
