import { fromBinary } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { auditSubject } from "@fintech/auth";
import type { EventConsumer } from "@fintech/events";
import { createConsumer } from "@fintech/events";
import type { Clock } from "@fintech/platform";
import { AuditEntrySchema } from "@fintech/proto/fintech/audit/v1/audit_pb.js";
import type { NatsConnection } from "@nats-io/transport-node";
import type pg from "pg";
import type { Logger } from "pino";
import type { NewAuditRecord } from "./audit-store.js";
import { auditStore } from "./audit-store.js";

/** The services whose audit entries are kept: those that record admin actions and money movements. */
export const AUDITED_SERVICES = ["identity", "wallet", "fraud", "fx"] as const;

/**
 * One durable consumer per audited service's stream (`<service>.audit.recorded`), in batches: each batch's new
 * entries are appended to audit_records with their inbox rows in one transaction, so an entry is kept exactly
 * once however often it is delivered. A stream that does not exist yet (its service has not started) is waited
 * for in the background.
 */
export function createAuditConsumers(deps: {
  pool: pg.Pool;
  nc: NatsConnection;
  namespace: string;
  clock: Clock;
  logger: Logger;
  /** How long a batch waits for more entries (libs/events' lingerMs). */
  lingerMs: number;
}): EventConsumer[] {
  const { pool, nc, namespace, clock, logger, lingerMs } = deps;
  return AUDITED_SERVICES.map((service) =>
    createConsumer<NewAuditRecord>({
      pool,
      nc,
      context: service,
      durable: `notifications-audit-${service}`,
      filterSubject: auditSubject(service),
      namespace,
      logger,
      waitForStream: true,
      batch: {
        lingerMs,
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
      },
    }),
  );
}
