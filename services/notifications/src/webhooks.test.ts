import { randomUUID } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { describe, expect } from "vitest";
import { expectRefusal, notificationsTest } from "./test/harness.js";

const test = notificationsTest();

describe("webhook endpoints", () => {
  test("a user registers an endpoint, sees its secret once, changes it and removes it", async ({
    notifications,
  }) => {
    const ana = notifications.asUser(randomUUID());
    const { webhook } = await ana.createWebhook({
      url: "http://127.0.0.1:9/hooks",
      events: ["transaction.completed", "review.held"],
      description: "shop",
    });
    expect(webhook).toMatchObject({
      url: "http://127.0.0.1:9/hooks",
      events: ["transaction.completed", "review.held"],
      description: "shop",
      enabled: true,
      platformWide: false,
    });
    // Standard Webhooks' form: whsec_ and base64 of 24 to 64 random bytes.
    const secret = webhook?.secret ?? "";
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(secret.slice("whsec_".length), "base64").length).toBeGreaterThanOrEqual(24);
    const id = webhook?.id ?? "";

    // Never shown again, and never stored as it is.
    expect((await ana.getWebhook({ id })).webhook?.secret).toBe("");
    expect((await ana.listWebhooks({})).data.map((w) => [w.id, w.secret])).toEqual([[id, ""]]);
    const { rows } = await notifications.pool.query<{ secret: Buffer }>(
      "SELECT secret FROM webhook_endpoints WHERE id = $1",
      [id],
    );
    const stored = rows[0]?.secret ?? Buffer.alloc(0);
    expect(stored.length).toBeGreaterThan(0);
    expect(stored.includes(Buffer.from(secret))).toBe(false);
    expect(stored.includes(Buffer.from(secret.slice("whsec_".length), "base64"))).toBe(false);

    const { webhook: changed } = await ana.updateWebhook({
      id,
      url: "http://127.0.0.1:9/v2",
      events: ["wallet.created"],
      enabled: false,
    });
    expect(changed).toMatchObject({
      url: "http://127.0.0.1:9/v2",
      events: ["wallet.created"],
      description: "shop",
      enabled: false,
      disabledReason: "owner",
    });
    const { webhook: again } = await ana.updateWebhook({ id, enabled: true });
    expect(again).toMatchObject({ enabled: true, disabledReason: "", events: ["wallet.created"] });

    await ana.deleteWebhook({ id });
    await expectRefusal(ana.getWebhook({ id }), Code.NotFound, "NOT_FOUND");
    await expectRefusal(ana.deleteWebhook({ id }), Code.NotFound, "NOT_FOUND");
  });

  test("another user's endpoint is not found, and only admins register platform-wide ones", async ({
    notifications,
  }) => {
    const ana = notifications.asUser(randomUUID());
    const bo = notifications.asUser(randomUUID());
    const { webhook } = await ana.createWebhook({ url: "http://127.0.0.1:9/a", events: ["wallet.created"] });
    const id = webhook?.id ?? "";
    await expectRefusal(bo.getWebhook({ id }), Code.NotFound, "NOT_FOUND");
    await expectRefusal(bo.updateWebhook({ id, enabled: false }), Code.NotFound, "NOT_FOUND");
    await expectRefusal(bo.deleteWebhook({ id }), Code.NotFound, "NOT_FOUND");
    expect((await bo.listWebhooks({})).data).toEqual([]);

    await expectRefusal(
      bo.createWebhook({ url: "http://127.0.0.1:9/b", events: ["wallet.created"], platformWide: true }),
      Code.PermissionDenied,
      "FORBIDDEN",
    );
    const admin = notifications.asUser(randomUUID(), { admin: true });
    const { webhook: wide } = await admin.createWebhook({
      url: "http://127.0.0.1:9/all",
      events: ["transaction.completed"],
      platformWide: true,
    });
    expect(wide).toMatchObject({ platformWide: true, userId: "" });
    // Platform-wide endpoints are the admins'; a user does not see them.
    expect((await admin.listWebhooks({})).data.map((w) => w.id)).toEqual([wide?.id]);
    await expectRefusal(ana.getWebhook({ id: wide?.id ?? "" }), Code.NotFound, "NOT_FOUND");
  });

  test("lists page newest first with a cursor", async ({ notifications }) => {
    const cy = notifications.asUser(randomUUID());
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { webhook } = await cy.createWebhook({
        url: `http://127.0.0.1:9/${i}`,
        events: ["wallet.created"],
      });
      ids.push(webhook?.id ?? "");
      notifications.clock.advance(1_000);
    }
    const first = await cy.listWebhooks({ limit: 2 });
    expect(first.data.map((w) => w.id)).toEqual([ids[2], ids[1]]);
    expect(first.hasMore).toBe(true);
    const second = await cy.listWebhooks({ limit: 2, cursor: first.nextCursor });
    expect(second.data.map((w) => w.id)).toEqual([ids[0]]);
    expect(second.hasMore).toBe(false);
    await expectRefusal(cy.listWebhooks({ cursor: "nonsense" }), Code.InvalidArgument, "VALIDATION_ERROR", {
      field: "cursor",
    });
  });

  test("requests are checked: the URL, the event types and the id", async ({ notifications }) => {
    const ana = notifications.asUser(randomUUID());
    await expectRefusal(
      ana.createWebhook({ url: "not a url", events: ["wallet.created"] }),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
      { field: "url" },
    );
    await expectRefusal(
      ana.createWebhook({ url: "ftp://127.0.0.1/x", events: ["wallet.created"] }),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
      { field: "url" },
    );
    await expectRefusal(
      ana.createWebhook({ url: "http://127.0.0.1:9/x", events: [] }),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
      { field: "events" },
    );
    await expectRefusal(
      ana.createWebhook({ url: "http://127.0.0.1:9/x", events: ["transaction.exploded"] }),
      Code.InvalidArgument,
      "VALIDATION_ERROR",
      { field: "events" },
    );
    await expectRefusal(ana.getWebhook({ id: "42" }), Code.InvalidArgument, "VALIDATION_ERROR", {
      field: "id",
    });
    await expectRefusal(notifications.webhooksAs().listWebhooks({}), Code.Unauthenticated, "UNAUTHENTICATED");
  });
});
