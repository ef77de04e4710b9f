import { Code } from "@connectrpc/connect";
import { Role, UserStatus } from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import { describe, expect } from "vitest";
import { bearer, expectRefusal, identityTest, PASSWORD } from "./test/harness.js";

// identity's events held back for ten seconds: what its own callers see must not wait for them.
const test = identityTest({ OUTBOX_LINGER_MS: "10000", OUTBOX_POLL_INTERVAL_MS: "60000" });

describe("identity's own changes to a user", () => {
  test("apply to the next call at once, before their event is published", async ({ identity }) => {
    const admin = bearer(await identity.adminToken());
    const u = await identity.signUp("changed");
    // The user's access is now remembered as active, with the user role only.
    expect((await identity.client.getMe({}, bearer(u.accessToken))).user?.status).toBe(UserStatus.ACTIVE);

    await identity.client.updateUserStatus({ id: u.id, status: UserStatus.SUSPENDED }, admin);
    await expectRefusal(
      identity.client.getMe({}, bearer(u.accessToken)),
      Code.Unauthenticated,
      "UNAUTHENTICATED",
    );

    identity.clock.advance(1000);
    await identity.client.updateUserStatus({ id: u.id, status: UserStatus.ACTIVE }, admin);
    const again = await identity.client.login({ email: u.email, password: PASSWORD });
    const asUser = bearer(again.accessToken);
    expect((await identity.client.getMe({}, asUser)).user?.status).toBe(UserStatus.ACTIVE);

    // Made an admin and back: the token issued before says admin only while identity says so.
    await identity.client.setUserRoles({ id: u.id, roles: [Role.USER, Role.ADMIN] }, admin);
    const asAdmin = bearer((await identity.client.login({ email: u.email, password: PASSWORD })).accessToken);
    expect((await identity.client.getUser({ id: u.id }, asAdmin)).user?.id).toBe(u.id);
    await identity.client.setUserRoles({ id: u.id, roles: [Role.USER] }, admin);
    await expectRefusal(identity.client.getUser({ id: u.id }, asAdmin), Code.PermissionDenied, "FORBIDDEN");

    await identity.client.deleteUser({ id: u.id }, admin);
    await expectRefusal(identity.client.getMe({}, asUser), Code.Unauthenticated, "UNAUTHENTICATED");
  });
});
