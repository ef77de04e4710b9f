import { randomUUID } from "node:crypto";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { testAdmin, testUser, waitFor } from "@fintech/testing";
import { describe, expect } from "vitest";
import { createAuditSigner } from "./audit-signer.js";
import type { NewAuditRecord } from "./audit-store.js";
import { auditStore } from "./audit-store.js";
import { adminActs, record } from "./test/audit-kit.js";
import { expectRefusal, notificationsTest, publishAuditEntry } from "./test/harness.js";

// Checkpoint after every sealed batch, so a test's pass always signs the head it sealed.
const test = notificationsTest({ AUDIT_CHECKPOINT_EVERY: "1" });

describe("audit trail", () => {
  test("entries from every audited service are kept once, newest first, filtered and paged", async ({
    notifications: h,
  }) => {
    const subject = randomUUID();
    const [first = ""] = await record(h, "identity", [adminActs(subject)]);
    // The same event delivered again (a relay that republished it) is kept once.
    await publishAuditEntry(h, "identity", adminActs(subject), { eventId: first });
    await record(h, "wallet", [
      adminActs(subject, {
        action: "wallet.reverse_transaction",
        subjectType: "transaction",
        actor: { kind: "user", id: "admin-8", roles: ["user", "admin"], credential: "jwt" },
        occurredAt: timestampFromDate(new Date("2026-03-03T03:00:00Z")),
      }),
    ]);
    const admin = h.auditAs(testAdmin("admin-1"));
    const all = await admin.listAuditRecords({ subjectId: subject });
    expect(all.data.map((r) => [r.service, r.action, r.actor?.id])).toEqual([
      ["wallet", "wallet.reverse_transaction", "admin-8"],
      ["identity", "identity.update_user_status", "admin-7"],
    ]);
    expect(all.data[1]).toMatchObject({
      eventId: first,
      clientIp: "203.0.113.7",
      subjectType: "user",
      before: { status: "active" },
      after: { status: "suspended" },
    });
    const byActor = await admin.listAuditRecords({ subjectId: subject, actor: "admin-7" });
    expect(byActor.data.map((r) => r.action)).toEqual(["identity.update_user_status"]);
    const byTime = await admin.listAuditRecords({
      subjectId: subject,
      from: timestampFromDate(new Date("2026-03-03T00:00:00Z")),
    });
    expect(byTime.data.map((r) => r.service)).toEqual(["wallet"]);
    const page1 = await admin.listAuditRecords({ subjectId: subject, limit: 1 });
    expect(page1.hasMore).toBe(true);
    const page2 = await admin.listAuditRecords({ subjectId: subject, limit: 1, cursor: page1.nextCursor });
    expect([...page1.data, ...page2.data].map((r) => r.seq)).toEqual(all.data.map((r) => r.seq));
    expect(page2.hasMore).toBe(false);

    await expectRefusal(
      h.auditAs(testUser(randomUUID())).listAuditRecords({}),
      Code.PermissionDenied,
      "FORBIDDEN",
    );
  });

  test("the database refuses to change or remove an audit record", async ({ notifications: h }) => {
    const [id] = await record(h, "fraud", [adminActs(randomUUID(), { action: "fraud.update_rules" })]);
    for (const sql of [
      "UPDATE audit_records SET actor_id = 'someone-else' WHERE event_id = $1",
      "DELETE FROM audit_records WHERE event_id = $1",
      "TRUNCATE audit_records",
      "TRUNCATE audit_chain",
      "DELETE FROM audit_checkpoints",
    ]) {
      const values = sql.includes("$1") ? [id] : [];
      await expect(h.pool.query(sql, values), sql).rejects.toMatchObject({ code: "42501" });
    }
    const { rows } = await h.pool.query("SELECT actor_id FROM audit_records WHERE event_id = $1", [id]);
    expect(rows).toEqual([{ actor_id: "admin-7" }]);
  });

  test("a checkpoint signed with a key of someone's own is reported, however well it matches the chain", async ({
    notifications: h,
  }) => {
    await record(h, "wallet", [adminActs(randomUUID(), { action: "wallet.pay_out_wallet" })]);
    await h.app.audit.sealer.sealNow();
    const admin = h.auditAs(testAdmin("admin-1"));
    expect((await admin.verifyAudit({})).ok).toBe(true);
    // Inserting is what the table allows; a forger can hash and sign, but not with this service's key.
    const { rows } = await h.pool.query<{ seq: bigint; hash: Buffer }>(
      "SELECT seq, hash FROM audit_chain ORDER BY seq DESC LIMIT 1",
    );
    const head = rows[0];
    if (head === undefined) throw new Error("nothing sealed");
    const forger = createAuditSigner(undefined);
    await h.pool.query(
      "INSERT INTO audit_checkpoints (seq, hash, public_key, signature, created_at) VALUES ($1, $2, $3, $4, now())",
      [head.seq, head.hash, forger.publicKey, forger.sign(head.seq, head.hash)],
    );
    const v = await admin.verifyAudit({});
    expect(v.ok).toBe(false);
    expect(v.checkpointsUntrusted).toBe(1n);
    expect(v.firstBroken).toMatchObject({ seq: head.seq, reason: "checkpoint_untrusted" });
  });

  test("an append waits for the one before it to commit before it takes a seq", async ({
    notifications: h,
  }) => {
    const entry = (): NewAuditRecord => ({
      eventId: randomUUID(),
      service: "wallet",
      action: "wallet.reverse_transaction",
      actorKind: "user",
      actorId: "admin-8",
      actorRoles: ["user", "admin"],
      actorCredential: "jwt",
      requestId: `req-${randomUUID()}`,
      clientIp: "203.0.113.7",
      subjectType: "transaction",
      subjectId: randomUUID(),
      before: undefined,
      after: undefined,
      occurredAt: new Date(),
    });
    const lastSeq = async () =>
      (await h.pool.query<{ last_value: bigint }>("SELECT last_value FROM audit_records_seq_seq")).rows[0]
        ?.last_value;
    const first = await h.pool.connect();
    const second = await h.pool.connect();
    try {
      await first.query("BEGIN");
      const a = entry();
      expect(await auditStore.append(first, [a], new Date())).toBe(1);
      const held = await lastSeq();
      const pid = (await second.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]?.pid;
      await second.query("BEGIN");
      const b = entry();
      const appending = auditStore.append(second, [b], new Date());
      // The second append waits on the first one's lock, and has drawn no seq meanwhile: a sealer can never see
      // a seq committed while a lower one is still to come.
      await waitFor(async () => {
        const { rows } = await h.pool.query(
          "SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock' AND wait_event = 'advisory'",
          [pid],
        );
        return rows.length > 0;
      });
      expect(await lastSeq()).toBe(held);
      await first.query("COMMIT");
      expect(await appending).toBe(1);
      await second.query("COMMIT");
      const seqs = await h.pool.query<{ event_id: string; seq: bigint }>(
        "SELECT event_id, seq FROM audit_records WHERE event_id = ANY ($1) ORDER BY seq",
        [[a.eventId, b.eventId]],
      );
      expect(seqs.rows.map((r) => r.event_id)).toEqual([a.eventId, b.eventId]);
      expect(seqs.rows[1]?.seq).toBe((held ?? 0n) + 1n);
    } finally {
      await first.query("ROLLBACK").catch(() => undefined);
      await second.query("ROLLBACK").catch(() => undefined);
      first.release();
      second.release();
    }
  });
});
