import { fromBinary } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { auditSubject } from "@fintech/auth";
import type { BatchHandler } from "@fintech/events";
import type { Clock } from "@fintech/platform";
import { AuditEntrySchema } from "@fintech/proto/fintech/audit/v1/audit_pb.js";
import type { NewAuditRecord } from "./audit-store.js";
import { auditStore } from "./audit-store.js";
import type { StreamPurpose } from "./consumers.js";

/** The services whose audit entries are kept: those that record admin actions and money movements. */
export const AUDITED_SERVICES = ["identity", "wallet", "fraud", "fx"] as const;

/**
 * One purpose per audited service's stream (`<service>.audit.recorded`), in batches: each batch's new entries
 * are appended to audit_records with their inbox rows in one transaction, so an entry is kept exactly once
 * however often it is delivered.
 */
export function auditPurposes(deps: { clock: Clock }): StreamPurpose[] {
  const { clock } = deps;
  return AUDITED_SERVICES.map((service) => ({
    context: service,
    inbox: `notifications-audit-${service}`,
    subject: auditSubject(service),
    handler: {
      decode(event) {
        const e = fromBinary(AuditEntrySchema, event.message);
        return {
          events: [
            {
              id: event.id,
              message: {
                eventId: event.id,
                // The stream says which service it came from, whatever the entry claims.
                service,
                action: e.action,
                actorKind: e.actor?.kind ?? "",
                actorId: e.actor?.id ?? "",
                actorRoles: e.actor?.roles ?? [],
                actorCredential: e.actor?.credential ?? "",
                requestId: e.requestId,
                clientIp: e.clientIp,
                subjectType: e.subjectType,
                subjectId: e.subjectId,
                before: e.before,
                after: e.after,
                occurredAt: e.occurredAt === undefined ? event.time : timestampDate(e.occurredAt),
              },
            },
          ],
        };
      },
      async handle(events, tx) {
        await auditStore.append(
          tx,
          events.map((e) => e.message),
          clock.now(),
        );
        return undefined;
      },
    } satisfies BatchHandler<NewAuditRecord>,
  }));
}
