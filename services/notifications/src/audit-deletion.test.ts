import { randomUUID } from "node:crypto";
import { AuditCheckpointedSchema } from "@fintech/proto/fintech/notifications/v1/events_pb.js";
import { publishedEvents, testAdmin } from "@fintech/testing";
import { describe, expect } from "vitest";
import { adminActs, record, seqsOf, tamper } from "./test/audit-kit.js";
import { notificationsTest } from "./test/harness.js";

// Checkpoint after every sealed batch, so a test's pass always signs the head it sealed.
const test = notificationsTest({ AUDIT_CHECKPOINT_EVERY: "1" });

describe("audit trail checkpoints", () => {
  test("deleting the newest records with their links after a checkpoint is detected, and the checkpoint was published", async ({
    notifications: h,
  }) => {
    const ids = await record(
      h,
      "identity",
      [1, 2, 3].map(() => adminActs(randomUUID())),
    );
    const pass = await h.app.audit.sealer.sealNow();
    const seqs = await seqsOf(h, ids);
    const newest = seqs.at(-1) ?? 0n;
    expect(pass?.checkpoint?.seq).toBe(newest);
    const published = await publishedEvents(
      h.nc,
      h.pool,
      h.namespace,
      "notifications.audit.checkpointed",
      AuditCheckpointedSchema,
    );
    expect(published.map((c) => c.seq)).toContain(newest);

    await tamper(h, "DELETE FROM audit_chain WHERE seq >= $1", [seqs[1]]);
    await tamper(h, "DELETE FROM audit_records WHERE seq >= $1", [seqs[1]]);
    const v = await h.auditAs(testAdmin("admin-1")).verifyAudit({});
    expect(v.ok).toBe(false);
    expect(v.firstBroken).toMatchObject({ seq: newest, reason: "records_deleted" });
  });
});
