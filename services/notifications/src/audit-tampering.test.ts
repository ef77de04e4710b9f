import { randomUUID } from "node:crypto";
import { testAdmin } from "@fintech/testing";
import { describe, expect } from "vitest";
import { adminActs, record, seqsOf, tamper } from "./test/audit-kit.js";
import { notificationsTest } from "./test/harness.js";

// Checkpoint after every sealed batch, so a test's pass always signs the head it sealed.
const test = notificationsTest({ AUDIT_CHECKPOINT_EVERY: "1" });

describe("audit trail verification", () => {
  test("verify passes on the sealed chain and names the seq of a record altered behind the database's back", async ({
    notifications: h,
  }) => {
    const ids = await record(
      h,
      "fx",
      [1, 2, 3].map((n) => adminActs(`USD/MYR-${n}-${randomUUID()}`)),
    );
    await h.app.audit.sealer.sealNow();
    const admin = h.auditAs(testAdmin("admin-1"));
    const sound = await admin.verifyAudit({});
    expect(sound).toMatchObject({ ok: true, unsealed: 0n });
    expect(sound.checkpointsVerified).toBeGreaterThan(0n);
    const listed = await admin.listAuditRecords({ subjectId: "" });
    expect(listed.data.every((r) => /^[0-9a-f]{64}$/.test(r.hash))).toBe(true);

    const [, second] = await seqsOf(h, ids);
    await tamper(h, `UPDATE audit_records SET after = '{"status":"active"}' WHERE seq = $1`, [second]);
    const broken = await admin.verifyAudit({});
    expect(broken.ok).toBe(false);
    expect(broken.firstBroken).toMatchObject({ seq: second, reason: "record_altered" });
  });
});
