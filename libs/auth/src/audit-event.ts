import type { JsonObject } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { redactSecrets } from "@fintech/platform";
import type { AuditEntry } from "@fintech/proto/fintech/audit/v1/audit_pb.js";
import { AuditEntrySchema } from "@fintech/proto/fintech/audit/v1/audit_pb.js";
import type { AuditOrigin } from "./audit-origin.js";

/** What an audited action did, to which object. */
export interface AuditedChange {
  /** The kind of object, e.g. "user", "transaction", "rate". */
  subjectType: string;
  subjectId: string;
  /** Its audited fields before the change (omit for a creation). Secret-looking keys are never recorded. */
  before?: JsonObject | undefined;
  /** Its audited fields after the change (omit for a deletion). */
  after?: JsonObject | undefined;
  occurredAt: Date;
  /** Default: the origin's, "<service>.<method>". */
  action?: string | undefined;
}

/** The subject of audit events: `<service>.audit.recorded`, in the acting service's own stream. */
export const auditSubject = (service: string): string => `${service}.audit.recorded`;

/**
 * The audit entry of `change` made in the RPC `origin`, as an outbox event (`<service>.audit.recorded`,
 * message fintech.audit.v1.AuditEntry) to enqueue in the database transaction that makes the change, so the
 * record exists exactly when the change does. Keys that look like secrets (password, token, secret, API key)
 * are redacted from before and after, whatever the caller put there.
 */
export function auditEvent(origin: AuditOrigin, change: AuditedChange) {
  const message: AuditEntry = create(AuditEntrySchema, {
    service: origin.service,
    action: change.action ?? origin.action,
    actor: origin.actor,
    requestId: origin.requestId,
    clientIp: origin.clientIp,
    subjectType: change.subjectType,
    subjectId: change.subjectId,
    occurredAt: timestampFromDate(change.occurredAt),
    ...(change.before === undefined ? {} : { before: redactSecrets(change.before) }),
    ...(change.after === undefined ? {} : { after: redactSecrets(change.after) }),
  });
  return { type: auditSubject(origin.service), schema: AuditEntrySchema, message };
}
