import { cursorParts, pageCursor, takePage } from "@fintech/platform";
import type pg from "pg";
import type { AuditSigner } from "./audit-signer.js";
import type { AuditFilter, AuditRecordRow } from "./audit-store.js";
import { auditStore } from "./audit-store.js";
import type { Verification } from "./audit-verifier.js";
import { verifyAuditChain } from "./audit-verifier.js";

/** A stored record and its chain link's hash, undefined until sealed. */
export type ListedAuditRecord = AuditRecordRow & { hash: Buffer | undefined };

const recordCursor = pageCursor({ seq: cursorParts.int64 });

/**
 * The audit trail as admins read it: the records (newest first, filtered) and a verification of the chain. The
 * trail is written only by the audit consumers and sealed only by the sealer.
 */
export function createAuditService(deps: { pool: pg.Pool; signer: AuditSigner }) {
  const { pool, signer } = deps;
  return {
    async list(
      filter: AuditFilter,
      limit: number,
      cursor?: string,
    ): Promise<{ data: ListedAuditRecord[]; nextCursor: string | undefined }> {
      const before = cursor === undefined ? undefined : recordCursor.decode(cursor).seq;
      const rows = await auditStore.list(pool, filter, limit + 1, before);
      const { items, nextPageToken } = takePage(rows, limit, (last) =>
        recordCursor.encode({ seq: last.seq }),
      );
      return { data: items, nextCursor: nextPageToken };
    },

    /** Walks the chain as it is now (records not sealed yet are counted, not checked). */
    async verify(): Promise<Verification> {
      return verifyAuditChain(pool, signer);
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
