import { toJsonString } from "@bufbuild/protobuf";
import type { AuditEntry } from "@fintech/proto/fintech/audit/v1/audit_pb.js";
import { AuditEntrySchema } from "@fintech/proto/fintech/audit/v1/audit_pb.js";
import { Role, UserStatus } from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import type { NatsFixture, PgFixture } from "@fintech/testing";
import { publishedEvents } from "@fintech/testing";
import { describe, expect } from "vitest";
import { ADMIN_PASSWORD, bearer, identityTest, PASSWORD } from "./test/harness.js";

const test = identityTest();

/** Every audit entry identity has published, oldest first. */
function published({ nats, pg }: { nats: NatsFixture; pg: PgFixture }): Promise<AuditEntry[]> {
  return publishedEvents(nats.nc, pg.pool, nats.namespace, "identity.audit.recorded", AuditEntrySchema);
}

/** The audit entries identity published about `subjectId`, oldest first. */
async function auditOf(
  fixtures: { nats: NatsFixture; pg: PgFixture },
  subjectId: string,
): Promise<AuditEntry[]> {
  return (await published(fixtures)).filter((e) => e.subjectId === subjectId);
}

describe("audit entries", () => {
  test("an admin's status change, role change and deletion each record who, which request, from where, before and after", async ({
    identity,
    pg,
    nats,
  }) => {
    const adminToken = await identity.adminToken();
    const adminId = (await identity.client.getMe({}, bearer(adminToken))).user?.id ?? "";
    const gateway = await identity.serviceToken();
    const u = await identity.signUp("audited");
    const viaGateway = (requestId: string) => ({
      headers: {
        authorization: `Bearer ${adminToken}`,
        "x-request-id": requestId,
        "x-forwarded-for": "203.0.113.7",
        "x-forwarded-by": `Bearer ${gateway}`,
      },
    });
    await identity.client.updateUserStatus(
      { id: u.id, status: UserStatus.SUSPENDED },
      viaGateway("req-status"),
    );
    await identity.client.setUserRoles({ id: u.id, roles: [Role.USER, Role.ADMIN] }, viaGateway("req-roles"));
    await identity.client.deleteUser({ id: u.id }, viaGateway("req-delete"));

    const entries = await auditOf({ nats, pg }, u.id);
    expect(entries.map((e) => [e.action, e.requestId, e.clientIp])).toEqual([
      ["identity.update_user_status", "req-status", "203.0.113.7"],
      ["identity.set_user_roles", "req-roles", "203.0.113.7"],
      ["identity.delete_user", "req-delete", "203.0.113.7"],
    ]);
    for (const e of entries) {
      expect(e).toMatchObject({ service: "identity", subjectType: "user", subjectId: u.id });
      expect(e.actor).toMatchObject({
        kind: "user",
        id: adminId,
        roles: ["user", "admin"],
        credential: "jwt",
      });
      expect(e.occurredAt).toBeDefined();
    }
    expect([entries[0]?.before, entries[0]?.after]).toEqual([{ status: "active" }, { status: "suspended" }]);
    expect([entries[1]?.before, entries[1]?.after]).toEqual([
      { roles: ["user"] },
      { roles: ["user", "admin"] },
    ]);
    expect(entries[2]?.before).toMatchObject({ status: "suspended", deleted: false });
    expect(entries[2]?.after).toMatchObject({ deleted: true });
  });

  test("the client's address is believed only with the gateway's own token beside it", async ({
    identity,
    pg,
    nats,
  }) => {
    const adminToken = await identity.adminToken();
    const someone = await identity.signUp("claims-to-be-gateway");
    const a = await identity.signUp("target-a");
    const b = await identity.signUp("target-b");
    const as = (extra: Record<string, string>) => ({
      headers: { authorization: `Bearer ${adminToken}`, "x-forwarded-for": "198.51.100.9", ...extra },
    });
    await identity.client.updateUserStatus({ id: a.id, status: UserStatus.SUSPENDED }, as({}));
    await identity.client.updateUserStatus(
      { id: b.id, status: UserStatus.SUSPENDED },
      as({ "x-forwarded-by": `Bearer ${someone.accessToken}` }),
    );
    expect((await auditOf({ nats, pg }, a.id)).map((e) => e.clientIp)).toEqual([""]);
    expect((await auditOf({ nats, pg }, b.id)).map((e) => e.clientIp)).toEqual([""]);
  });

  test("no password, token or key appears in an audit entry", async ({ identity, pg, nats }) => {
    const adminToken = await identity.adminToken();
    const gateway = await identity.serviceToken();
    const u = await identity.signUp("secretive");
    const key = await identity.client.createApiKey({ name: "ci" }, bearer(u.accessToken));
    const admin = {
      headers: { authorization: `Bearer ${adminToken}`, "x-forwarded-by": `Bearer ${gateway}` },
    };
    await identity.client.setUserRoles({ id: u.id, roles: [Role.USER, Role.ADMIN] }, admin);
    await identity.client.updateUserStatus({ id: u.id, status: UserStatus.SUSPENDED }, admin);
    await identity.client.deleteUser({ id: u.id }, admin);
    const entries = await published({ nats, pg });
    expect(entries.length).toBeGreaterThanOrEqual(3);
    const text = entries.map((e) => toJsonString(AuditEntrySchema, e)).join("\n");
    for (const secret of [
      PASSWORD,
      ADMIN_PASSWORD,
      adminToken,
      gateway,
      u.accessToken,
      u.refreshToken,
      key.key,
    ]) {
      expect(text).not.toContain(secret);
    }
  });

  test("a signing key rotation is audited with the new key's id, never the key", async ({
    identity,
    pg,
    nats,
  }) => {
    const adminToken = await identity.adminToken();
    const { kid } = await identity.client.rotateSigningKey({}, bearer(adminToken));
    const [entry, ...more] = await auditOf({ nats, pg }, kid);
    expect(more).toEqual([]);
    expect(entry).toMatchObject({ action: "identity.rotate_signing_key", subjectType: "signing_key" });
    expect(Object.keys(entry?.after ?? {}).sort()).toEqual(["activates_at", "kid"]);
  });
});
