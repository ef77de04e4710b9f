import { Code, ConnectError } from "@connectrpc/connect";
import {
  UserDeletedSchema,
  UserRegisteredSchema,
  UserRolesChangedSchema,
  UserStatusChangedSchema,
} from "@fintech/proto/fintech/identity/v1/events_pb.js";
import { Role, UserStatus } from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import { waitFor } from "@fintech/testing";
import { decodeJwt } from "jose";
import { describe, expect } from "vitest";
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  bearer,
  expectRefusal,
  identityTest,
  PASSWORD,
  publishedEvents,
} from "./test/harness.js";

const test = identityTest();

describe("admin", () => {
  test("the first admin comes from ADMIN_EMAIL/ADMIN_PASSWORD, once", async ({ identity }) => {
    const token = await identity.adminToken();
    expect(decodeJwt(token).roles).toEqual(["user", "admin"]);
    expect(await identity.app.service.ensureAdmin(ADMIN_EMAIL, ADMIN_PASSWORD)).toBe(false);
    const { user } = await identity.client.getMe({}, bearer(token));
    expect(user).toMatchObject({ email: ADMIN_EMAIL, roles: [Role.USER, Role.ADMIN] });
  });

  test("a user calling admin RPCs is FORBIDDEN", async ({ identity }) => {
    const u = await identity.signUp("nosy");
    const other = await identity.signUp("target");
    const as = bearer(u.accessToken);
    await expectRefusal(identity.client.getUser({ id: other.id }, as), Code.PermissionDenied, "FORBIDDEN");
    await expectRefusal(identity.client.getUser({ id: u.id }, as), Code.PermissionDenied, "FORBIDDEN");
    await expectRefusal(
      identity.client.updateUserStatus({ id: other.id, status: UserStatus.SUSPENDED }, as),
      Code.PermissionDenied,
      "FORBIDDEN",
    );
    await expectRefusal(identity.client.deleteUser({ id: other.id }, as), Code.PermissionDenied, "FORBIDDEN");
    await expectRefusal(
      identity.client.setUserRoles({ id: u.id, roles: [Role.ADMIN] }, as),
      Code.PermissionDenied,
      "FORBIDDEN",
    );
    await expectRefusal(identity.client.rotateSigningKey({}, as), Code.PermissionDenied, "FORBIDDEN");
  });

  test("a user sending an invalid request to an admin or internal RPC is refused before it is checked", async ({
    identity,
  }) => {
    const as = bearer((await identity.signUp("prober")).accessToken);
    const refused = async (call: Promise<unknown>) => expectRefusal(call, Code.PermissionDenied, "FORBIDDEN");
    await refused(identity.client.getUser({ id: "not-a-uuid" }, as));
    await refused(identity.client.updateUserStatus({ id: "", status: UserStatus.UNSPECIFIED }, as));
    await refused(identity.client.deleteUser({ id: "x" }, as));
    await refused(identity.client.setUserRoles({ id: "x", roles: [] }, as));
    await refused(identity.client.verifyApiKey({ key: "" }, as));
    // Without credentials: Unauthenticated, not a validation error either.
    await expectRefusal(
      identity.client.getUser({ id: "not-a-uuid" }),
      Code.Unauthenticated,
      "UNAUTHENTICATED",
    );
  });

  test("an admin reads any user; an unknown id is NOT_FOUND", async ({ identity }) => {
    const admin = bearer(await identity.adminToken());
    const u = await identity.signUp("seen");
    expect((await identity.client.getUser({ id: u.id }, admin)).user?.email).toBe(u.email);
    await expectRefusal(
      identity.client.getUser({ id: "00000000-0000-4000-8000-000000000000" }, admin),
      Code.NotFound,
      "NOT_FOUND",
    );
    await expectRefusal(
      identity.client.getUser({ id: "me" }, admin),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
      {
        field: "id",
      },
    );
  });

  test("suspension stops login, refresh, tokens and API keys; reactivation restores login", async ({
    identity,
  }) => {
    const admin = bearer(await identity.adminToken());
    const u = await identity.signUp("suspendee");
    const { key } = await identity.client.createApiKey({ name: "k" }, bearer(u.accessToken));
    identity.clock.advance(1000);
    const res = await identity.client.updateUserStatus({ id: u.id, status: UserStatus.SUSPENDED }, admin);
    expect(res.user?.status).toBe(UserStatus.SUSPENDED);

    await expectRefusal(
      identity.client.login({ email: u.email, password: PASSWORD }),
      Code.FailedPrecondition,
      "USER_NOT_ACTIVE",
      { status: "suspended" },
    );
    await expectRefusal(
      identity.client.refresh({ refreshToken: u.refreshToken }),
      Code.Unauthenticated,
      "UNAUTHENTICATED",
    );
    // The credential itself no longer authorizes: 401, not a 422 about the account.
    await expectRefusal(
      identity.client.getMe({}, bearer(u.accessToken)),
      Code.Unauthenticated,
      "UNAUTHENTICATED",
    );
    await expectRefusal(
      identity.client.listApiKeys({}, { headers: { "x-api-key": key } }),
      Code.Unauthenticated,
      "UNAUTHENTICATED",
    );
    const svc = bearer(await identity.serviceToken());
    await expectRefusal(identity.client.verifyApiKey({ key }, svc), Code.Unauthenticated, "UNAUTHENTICATED");

    identity.clock.advance(1000);
    await identity.client.updateUserStatus({ id: u.id, status: UserStatus.ACTIVE }, admin);
    const again = await identity.client.login({ email: u.email, password: PASSWORD });
    expect((await identity.client.getMe({}, bearer(again.accessToken))).user?.status).toBe(UserStatus.ACTIVE);
    // Access tokens issued before the suspension stay dead after reactivation.
    await expectRefusal(
      identity.client.getMe({}, bearer(u.accessToken)),
      Code.Unauthenticated,
      "UNAUTHENTICATED",
    );
    // The refresh token family revoked at suspension stays dead.
    await expectRefusal(
      identity.client.refresh({ refreshToken: u.refreshToken }),
      Code.Unauthenticated,
      "UNAUTHENTICATED",
    );
    expect((await identity.client.verifyApiKey({ key }, svc)).userId).toBe(u.id);
  });

  test("closed is final", async ({ identity }) => {
    const admin = bearer(await identity.adminToken());
    const u = await identity.signUp("closer");
    await identity.client.updateUserStatus({ id: u.id, status: UserStatus.CLOSED }, admin);
    for (const status of [UserStatus.ACTIVE, UserStatus.SUSPENDED]) {
      await expectRefusal(
        identity.client.updateUserStatus({ id: u.id, status }, admin),
        Code.FailedPrecondition,
        "USER_NOT_ACTIVE",
      );
    }
    await expectRefusal(
      identity.client.login({ email: u.email, password: PASSWORD }),
      Code.FailedPrecondition,
      "USER_NOT_ACTIVE",
    );
    await expectRefusal(
      identity.client.updateUserStatus({ id: u.id, status: UserStatus.UNSPECIFIED }, admin),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
      { field: "status" },
    );
  });

  test("soft delete keeps the row; the user can no longer log in or use tokens or keys", async ({
    identity,
    pg,
  }) => {
    const admin = bearer(await identity.adminToken());
    const u = await identity.signUp("deletee");
    const { key } = await identity.client.createApiKey({ name: "k" }, bearer(u.accessToken));
    await identity.client.deleteUser({ id: u.id }, admin);
    await identity.client.deleteUser({ id: u.id }, admin);

    const { rows } = await pg.pool.query("SELECT deleted_at FROM users WHERE id = $1", [u.id]);
    expect(rows[0]?.deleted_at).toBeInstanceOf(Date);
    const shown = (await identity.client.getUser({ id: u.id }, admin)).user;
    expect(shown?.deletedAt).toBeDefined();
    // One status everywhere: deleted, not the status the user had before.
    expect(shown?.status).toBe(UserStatus.DELETED);
    await expectRefusal(
      identity.client.updateUserStatus({ id: u.id, status: UserStatus.DELETED }, admin),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
    );

    await expectRefusal(
      identity.client.login({ email: u.email, password: PASSWORD }),
      Code.Unauthenticated,
      "UNAUTHENTICATED",
    );
    await expectRefusal(
      identity.client.getMe({}, bearer(u.accessToken)),
      Code.Unauthenticated,
      "UNAUTHENTICATED",
    );
    await expectRefusal(
      identity.client.refresh({ refreshToken: u.refreshToken }),
      Code.Unauthenticated,
      "UNAUTHENTICATED",
    );
    await expectRefusal(
      identity.client.getMe({}, { headers: { "x-api-key": key } }),
      Code.Unauthenticated,
      "UNAUTHENTICATED",
    );
    await expectRefusal(
      identity.client.register({ email: u.email, password: PASSWORD, fullName: "Again" }),
      Code.AlreadyExists,
      "EMAIL_TAKEN",
    );
    await expectRefusal(
      identity.client.updateUserStatus({ id: u.id, status: UserStatus.ACTIVE }, admin),
      Code.FailedPrecondition,
      "USER_NOT_ACTIVE",
    );
  });

  test("roles are set by admins and show in the next token", async ({ identity }) => {
    const admin = bearer(await identity.adminToken());
    const u = await identity.signUp("promoted");
    const res = await identity.client.setUserRoles(
      { id: u.id, roles: [Role.ADMIN, Role.USER, Role.ADMIN] },
      admin,
    );
    expect(res.user?.roles).toEqual([Role.USER, Role.ADMIN]);
    const token = (await identity.client.login({ email: u.email, password: PASSWORD })).accessToken;
    expect(decodeJwt(token).roles).toEqual(["user", "admin"]);
    await identity.client.getUser({ id: u.id }, bearer(token));
    await expectRefusal(
      identity.client.setUserRoles({ id: u.id, roles: [] }, admin),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
      { field: "roles" },
    );
  });

  test("a demoted admin's token loses the admin role within 5 s and keeps working as a user's", async ({
    identity,
    pg,
    nats,
  }) => {
    const admin = bearer(await identity.adminToken());
    const u = await identity.signUp("demoted");
    await identity.client.setUserRoles({ id: u.id, roles: [Role.USER, Role.ADMIN] }, admin);
    const token = bearer((await identity.client.login({ email: u.email, password: PASSWORD })).accessToken);
    expect((await identity.client.getUser({ id: u.id }, token)).user?.id).toBe(u.id);

    await identity.client.setUserRoles({ id: u.id, roles: [Role.USER] }, admin);
    const refusal = await waitFor(
      async () => {
        try {
          await identity.client.getUser({ id: u.id }, token);
          return false;
        } catch (err) {
          return ConnectError.from(err);
        }
      },
      { timeoutMs: 5000 },
    );
    expect(refusal.code).toBe(Code.PermissionDenied);
    expect((await identity.client.getMe({}, token)).user?.id).toBe(u.id);
    const changed = await publishedEvents(
      nats.nc,
      pg.pool,
      identity.namespace,
      "identity.user.roles_changed",
      UserRolesChangedSchema,
    );
    expect(changed.filter((e) => e.userId === u.id).map((e) => e.roles)).toEqual([
      [Role.USER, Role.ADMIN],
      [Role.USER],
    ]);
  });

  test("each change is published exactly once", async ({ identity, pg, nats }) => {
    const admin = bearer(await identity.adminToken());
    const u = await identity.signUp("evented");
    await identity.client.updateUserStatus({ id: u.id, status: UserStatus.SUSPENDED }, admin);
    await identity.client.updateUserStatus({ id: u.id, status: UserStatus.SUSPENDED }, admin);
    await identity.client.deleteUser({ id: u.id }, admin);
    await identity.client.deleteUser({ id: u.id }, admin);

    const mine = <T extends { userId: string }>(events: T[]) => events.filter((e) => e.userId === u.id);
    const registered = mine(
      await publishedEvents(
        nats.nc,
        pg.pool,
        identity.namespace,
        "identity.user.registered",
        UserRegisteredSchema,
      ),
    );
    expect(registered).toHaveLength(1);
    expect(registered[0]).toMatchObject({
      email: u.email,
      status: UserStatus.ACTIVE,
      timezone: "UTC",
      defaultCurrency: "MYR",
      roles: [Role.USER],
    });
    expect(registered[0]?.occurredAt).toBeDefined();
    const changed = mine(
      await publishedEvents(
        nats.nc,
        pg.pool,
        identity.namespace,
        "identity.user.status_changed",
        UserStatusChangedSchema,
      ),
    );
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatchObject({ status: UserStatus.SUSPENDED, previousStatus: UserStatus.ACTIVE });
    const deleted = mine(
      await publishedEvents(nats.nc, pg.pool, identity.namespace, "identity.user.deleted", UserDeletedSchema),
    );
    expect(deleted).toHaveLength(1);
    expect(deleted[0]?.email).toBe(u.email);
  });
});
