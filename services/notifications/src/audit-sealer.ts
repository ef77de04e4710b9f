import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { createExclusiveJob, withTransaction } from "@fintech/db";
import { enqueue } from "@fintech/events";
import type { Clock } from "@fintech/platform";
import { AuditCheckpointedSchema } from "@fintech/proto/fintech/notifications/v1/events_pb.js";
import type pg from "pg";
import type { Logger } from "pino";
import { GENESIS_HASH, linkHash, recordContent } from "./audit-hash.js";
import type { AuditSigner } from "./audit-signer.js";
import type { ChainLink } from "./audit-store.js";
import { auditStore } from "./audit-store.js";

/** Options for {@link createAuditSealer}. */
export interface AuditSealerOptions {
  pool: pg.Pool;
  clock: Clock;
  logger: Logger;
  signer: AuditSigner;
  /** Milliseconds between passes. */
  intervalMs: number;
  /** A checkpoint once the head is this many seqs past the last one... */
  checkpointEvery: number;
  /** ...or once this many milliseconds passed since it, when anything new was sealed. */
  checkpointIntervalMs: number;
  /** Records sealed per database transaction; default 1000. */
  batch?: number;
}

/** What one pass did. */
export interface SealPass {
  sealed: number;
  /** The checkpoint it signed, if any. */
  checkpoint: { seq: bigint; hash: string } | undefined;
}

/**
 * Seals the audit trail off the request's path: one replica at a time (an exclusive job), every pass links the
 * records stored since the chain head, in seq order (hash = SHA-256(previous hash || canonical record)), and
 * signs the new head as a checkpoint when `checkpointEvery` records or `checkpointIntervalMs` have gone by since
 * the last one. A checkpoint is stored, published on notifications.audit.checkpointed (through the outbox, in the
 * same transaction) and logged, so that a copy lives outside this database: deleting the newest records and
 * their links is seen against it.
 */
export function createAuditSealer(opts: AuditSealerOptions) {
  const { pool, clock, logger, signer, checkpointEvery, checkpointIntervalMs } = opts;
  const batch = opts.batch ?? 1000;
  const log = logger.child({ component: "audit-sealer" });

  /** Seals one batch and checkpoints when due; the caller holds the sealer's lock. */
  async function sealBatch(): Promise<SealPass> {
    const pass = await withTransaction(pool, async (tx) => {
      const head = await auditStore.head(tx);
      const records = await auditStore.recordsAfter(tx, head?.seq ?? 0n, batch);
      const links: ChainLink[] = [];
      let prevHash = head?.hash ?? GENESIS_HASH;
      for (const r of records) {
        const hash = linkHash(prevHash, recordContent(r));
        links.push({ seq: r.seq, prevHash, hash });
        prevHash = hash;
      }
      const now = clock.now();
      await auditStore.appendLinks(tx, links, now);
      const newHead = links.at(-1) ?? head;
      const last = await auditStore.lastCheckpoint(tx);
      const since = last?.seq ?? 0n;
      const due =
        newHead !== undefined &&
        newHead.seq > since &&
        (newHead.seq - since >= BigInt(checkpointEvery) ||
          now.getTime() - (last?.createdAt.getTime() ?? 0) >= checkpointIntervalMs);
      if (!due) return { sealed: links.length, checkpoint: undefined };
      const signature = signer.sign(newHead.seq, newHead.hash);
      await auditStore.addCheckpoint(tx, {
        seq: newHead.seq,
        hash: newHead.hash,
        publicKey: signer.publicKey,
        signature,
        createdAt: now,
      });
      await enqueue(tx, {
        type: "notifications.audit.checkpointed",
        schema: AuditCheckpointedSchema,
        message: create(AuditCheckpointedSchema, {
          seq: newHead.seq,
          hash: newHead.hash.toString("hex"),
          signature: signature.toString("base64"),
          publicKey: signer.publicKey.toString("base64url"),
          createdAt: timestampFromDate(now),
        }),
      });
      return {
        sealed: links.length,
        checkpoint: {
          seq: newHead.seq,
          hash: newHead.hash.toString("hex"),
          signature: signature.toString("base64"),
        },
      };
    });
    if (pass.checkpoint !== undefined) {
      log.info(
        {
          audit_checkpoint: {
            seq: pass.checkpoint.seq.toString(),
            hash: pass.checkpoint.hash,
            signature: pass.checkpoint.signature,
            public_key: signer.publicKey.toString("base64url"),
          },
        },
        "audit chain checkpointed",
      );
    }
    return {
      sealed: pass.sealed,
      checkpoint: pass.checkpoint && { seq: pass.checkpoint.seq, hash: pass.checkpoint.hash },
    };
  }

  let last: SealPass = { sealed: 0, checkpoint: undefined };
  const job = createExclusiveJob({
    pool,
    name: "notifications.audit-sealer",
    intervalMs: opts.intervalMs,
    async run(signal) {
      let sealed = 0;
      let checkpoint: SealPass["checkpoint"];
      for (;;) {
        const pass = await sealBatch();
        sealed += pass.sealed;
        checkpoint = pass.checkpoint ?? checkpoint;
        if (pass.sealed < batch || signal.aborted) break;
      }
      last = { sealed, checkpoint };
    },
    onError: (err) => log.warn({ err }, "audit sealing pass failed; the next one retries"),
  });

  return {
    start: job.start,
    stop: job.stop,
    /** One pass now (tests, and a caller that wants the trail sealed before it verifies); undefined when another replica holds the lock. */
    async sealNow(): Promise<SealPass | undefined> {
      return (await job.runOnce()) ? last : undefined;
    },
  };
}

export type AuditSealer = ReturnType<typeof createAuditSealer>;
