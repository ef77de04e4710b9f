import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import { pageSize } from "@fintech/platform";
import type { AuditRecord } from "@fintech/proto/fintech/notifications/v1/audit_pb.js";
import { AuditRecordSchema, AuditService } from "@fintech/proto/fintech/notifications/v1/audit_pb.js";
import type { AuditService as Audit, ListedAuditRecord } from "./audit-service.js";

// The audit trail's RPC surface (admins only, see server.ts). Requests have passed validation.ts.

const given = (text: string): string | undefined => (text === "" ? undefined : text);

export function auditRoutes(audit: Audit) {
  return (router: ConnectRouter) =>
    router.service(AuditService, {
      async listAuditRecords(req) {
        const page = await audit.list(
          {
            actor: given(req.actor),
            action: given(req.action),
            subjectType: given(req.subjectType),
            subjectId: given(req.subjectId),
            from: req.from === undefined ? undefined : timestampDate(req.from),
            to: req.to === undefined ? undefined : timestampDate(req.to),
          },
          pageSize(req.limit),
          given(req.cursor),
        );
        return {
          data: page.data.map(recordMessage),
          hasMore: page.nextCursor !== undefined,
          nextCursor: page.nextCursor ?? "",
        };
      },
      async verifyAudit() {
        const v = await audit.verify();
        return {
          ok: v.ok,
          recordsChecked: v.recordsChecked,
          sealedThrough: v.sealedThrough,
          unsealed: v.unsealed,
          checkpointsVerified: v.checkpointsVerified,
          checkpointsUntrusted: v.checkpointsUntrusted,
          lastCheckpointSeq: v.lastCheckpointSeq,
          firstBroken: v.firstBroken,
        };
      },
    });
}

function recordMessage(r: ListedAuditRecord): AuditRecord {
  return create(AuditRecordSchema, {
    seq: r.seq,
    eventId: r.eventId,
    service: r.service,
    action: r.action,
    actor: { kind: r.actorKind, id: r.actorId, roles: r.actorRoles, credential: r.actorCredential },
    requestId: r.requestId,
    clientIp: r.clientIp,
    subjectType: r.subjectType,
    subjectId: r.subjectId,
    before: r.before,
    after: r.after,
    occurredAt: timestampFromDate(r.occurredAt),
    recordedAt: timestampFromDate(r.recordedAt),
    hash: r.hash?.toString("hex") ?? "",
  });
}
