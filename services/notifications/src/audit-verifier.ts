import type { Queryable } from "@fintech/db";
import { GENESIS_HASH, linkHash, recordContent } from "./audit-hash.js";
import type { AuditSigner } from "./audit-signer.js";
import { auditStore } from "./audit-store.js";

/** Why verification stopped at a seq. */
export type BreakReason =
  | "record_altered"
  | "record_missing"
  | "link_broken"
  | "unsealed_record"
  | "checkpoint_signature"
  | "checkpoint_untrusted"
  | "checkpoint_mismatch"
  | "records_deleted";

export interface Broken {
  seq: bigint;
  reason: BreakReason;
  message: string;
}

/** What a walk of the chain found. */
export interface Verification {
  ok: boolean;
  recordsChecked: bigint;
  sealedThrough: bigint;
  unsealed: bigint;
  checkpointsVerified: bigint;
  checkpointsUntrusted: bigint;
  lastCheckpointSeq: bigint;
  firstBroken: Broken | undefined;
}

const PAGE = 1000;

/**
 * Walks the audit chain from its start: each link must follow the previous one (its prev_hash), each sealed
 * record must hash to its link, every record below the head must be sealed, and every checkpoint must carry a
 * valid signature by a trusted key and the hash the chain has at its seq; a checkpoint beyond the chain's end
 * means records it covered were deleted. Reports the break with the lowest seq.
 */
export async function verifyAuditChain(db: Queryable, signer: AuditSigner): Promise<Verification> {
  const checkpoints = await auditStore.checkpoints(db);
  const bySeq = new Map<bigint, typeof checkpoints>();
  for (const c of checkpoints) bySeq.set(c.seq, [...(bySeq.get(c.seq) ?? []), c]);
  const breaks: Broken[] = [];
  let checkpointsVerified = 0n;
  let checkpointsUntrusted = 0n;
  for (const c of checkpoints) {
    if (!signer.verify(c.publicKey, c.seq, c.hash, c.signature)) {
      breaks.push({
        seq: c.seq,
        reason: "checkpoint_signature",
        message: `the checkpoint at seq ${c.seq} does not carry a valid signature of its hash`,
      });
    } else if (signer.trusts(c.publicKey)) {
      checkpointsVerified++;
    } else {
      // Anyone who can write the table can sign with a key of their own: only a key this service trusts vouches.
      checkpointsUntrusted++;
      breaks.push({
        seq: c.seq,
        reason: "checkpoint_untrusted",
        message: `the checkpoint at seq ${c.seq} is signed by a key this service does not trust (AUDIT_TRUSTED_KEYS)`,
      });
    }
  }

  let prevHash = GENESIS_HASH;
  let recordsChecked = 0n;
  let sealedThrough = 0n;
  let unsealed = 0n;
  let firstUnsealed: bigint | undefined;
  let position = 0n;
  walk: for (;;) {
    const rows = await auditStore.walk(db, position, PAGE);
    for (const row of rows) {
      position = row.seq;
      const { record, link } = row;
      if (link === undefined) {
        unsealed++;
        firstUnsealed ??= row.seq;
        continue;
      }
      if (firstUnsealed !== undefined) {
        breaks.push({
          seq: firstUnsealed,
          reason: "unsealed_record",
          message: `record ${firstUnsealed} is below sealed link ${link.seq} but not in the chain`,
        });
        break walk;
      }
      if (record === undefined) {
        breaks.push({
          seq: row.seq,
          reason: "record_missing",
          message: `the record of link ${row.seq} is gone`,
        });
        break walk;
      }
      if (!link.prevHash.equals(prevHash)) {
        breaks.push({
          seq: row.seq,
          reason: "link_broken",
          message: `link ${row.seq} does not follow the one before it (a link or record before it was removed)`,
        });
        break walk;
      }
      if (!linkHash(prevHash, recordContent(record)).equals(link.hash)) {
        breaks.push({
          seq: row.seq,
          reason: "record_altered",
          message: `record ${row.seq} is not the record that was sealed`,
        });
        break walk;
      }
      for (const c of bySeq.get(row.seq) ?? []) {
        if (!c.hash.equals(link.hash)) {
          breaks.push({
            seq: row.seq,
            reason: "checkpoint_mismatch",
            message: `the chain's hash at seq ${row.seq} is not the one checkpointed`,
          });
          break walk;
        }
      }
      prevHash = link.hash;
      sealedThrough = row.seq;
      recordsChecked++;
    }
    if (rows.length < PAGE) break;
  }
  const beyond = checkpoints.filter((c) => c.seq > sealedThrough).at(-1);
  if (beyond !== undefined && breaks.length === 0) {
    breaks.push({
      seq: beyond.seq,
      reason: "records_deleted",
      message: `a checkpoint covers records up to seq ${beyond.seq}, but the chain ends at ${sealedThrough}`,
    });
  }
  const firstBroken = breaks.sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0))[0];
  return {
    ok: firstBroken === undefined,
    recordsChecked,
    sealedThrough,
    unsealed,
    checkpointsVerified,
    checkpointsUntrusted,
    // Checkpoints come in seq order.
    lastCheckpointSeq: checkpoints.at(-1)?.seq ?? 0n,
    firstBroken,
  };
}
