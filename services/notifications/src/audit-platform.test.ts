import type { SmtpInbox } from "@fintech/testing";
import { test as base, startSmtpInbox, waitFor } from "@fintech/testing";
import type { RunningPlatform } from "@fintech/testing/platform";
import { startPlatform } from "@fintech/testing/platform";
import { describe, expect } from "vitest";

// The audit trail end to end: admin actions and money movements through the gateway, recorded by the services
// that make them, kept, sealed and verified here, read back through the gateway. And the e-mail a user gets for
// their money movements, received by an SMTP server of the test's own.

/** Starting every service's process on a shared 2-core machine takes a while. */
const PLATFORM_MS = 300_000;

const test = base.extend<{ $file: { inbox: SmtpInbox; platform: RunningPlatform } }>({
  inbox: [
    async ({ env: _env }, use) => {
      const inbox = await startSmtpInbox();
      try {
        await use(inbox);
      } finally {
        await inbox.close();
      }
    },
    { scope: "file" },
  ],
  platform: [
    async ({ env, inbox }, use) => {
      const platform = await startPlatform({
        databaseUrl: env.databaseUrl,
        natsUrl: env.natsUrl,
        redisUrl: env.redisUrl,
        isolate: true,
        env: {
          AUDIT_SEAL_INTERVAL_MS: "200",
          AUDIT_CHECKPOINT_INTERVAL_MS: "200",
          SMTP_URL: inbox.url,
          MAIL_POLL_INTERVAL_MS: "100",
        },
      });
      try {
        await use(platform);
      } finally {
        await platform.stop();
      }
    },
    { scope: "file" },
  ],
});

interface AuditRecord {
  seq: number;
  service: string;
  action: string;
  actor: { kind: string; id: string; roles: string[] };
  request_id: string;
  client_ip: string;
  subject_type: string;
  subject_id: string;
  before?: Record<string, unknown>;
  after?: Record<string, unknown>;
  hash?: string;
}

describe("audit trail through the platform", () => {
  test(
    "an admin's suspension and a user's top-up are audited with who, which request and from where, sealed and verified",
    async ({ platform }) => {
      const g = platform.gatewayUrl;
      const call = async <T>(
        method: string,
        path: string,
        token?: string,
        body?: unknown,
        requestId?: string,
      ) => {
        const res = await fetch(`${g}${path}`, {
          method,
          headers: {
            "content-type": "application/json",
            ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
            ...(requestId === undefined ? {} : { "x-request-id": requestId }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const text = await res.text();
        return { status: res.status, body: (text === "" ? {} : JSON.parse(text)) as T };
      };
      const login = async (email: string, password: string) =>
        (await call<{ access_token: string }>("POST", "/api/v1/auth/login", undefined, { email, password }))
          .body.access_token;
      const adminToken = await login(platform.admin.email, platform.admin.password);
      const adminId = (await call<{ id: string }>("GET", "/api/v1/users/me", adminToken)).body.id;
      const password = "Correct horse 42 battery";
      const email = `audited-${Date.now()}@example.com`;
      const user = await call<{ id: string }>("POST", "/api/v1/auth/register", undefined, {
        email,
        password,
        full_name: "Audited User",
      });
      expect(user.status).toBe(201);
      const userToken = await login(email, password);
      const wallet = await waitFor(async () => {
        const res = await call<{ data: Array<{ id: string }> }>("GET", "/api/v1/wallets", userToken);
        return res.body.data[0];
      });
      const topUp = await call<{ transaction_id: string }>(
        "POST",
        `/api/v1/wallets/${wallet.id}/fund`,
        userToken,
        { amount: "25.00", source: "visa" },
        "e2e-fund-1",
      );
      expect(topUp.status).toBe(201);
      // A user is not an auditor.
      expect((await call("GET", "/api/v1/audit", userToken)).status).toBe(403);
      const suspended = await call(
        "PATCH",
        `/api/v1/users/${user.body.id}/status`,
        adminToken,
        { status: "suspended" },
        "e2e-suspend-1",
      );
      expect(suspended.status).toBe(200);

      const sealed = async (subjectId: string) =>
        waitFor(
          async () => {
            const res = await call<{ data: AuditRecord[] }>(
              "GET",
              `/api/v1/audit?subject_id=${subjectId}`,
              adminToken,
            );
            const [r] = res.body.data;
            return r?.hash !== undefined && r.hash !== "" && r;
          },
          { timeoutMs: 30_000 },
        );
      const suspension = await sealed(user.body.id);
      expect(suspension).toMatchObject({
        service: "identity",
        action: "identity.update_user_status",
        actor: { kind: "user", id: adminId, roles: ["user", "admin"] },
        request_id: "e2e-suspend-1",
        subject_type: "user",
        before: { status: "active" },
        after: { status: "suspended" },
      });
      expect(suspension.client_ip).toMatch(/^(::ffff:)?127\.0\.0\.1$|^::1$/);
      const funding = await sealed(topUp.body.transaction_id);
      expect(funding).toMatchObject({
        service: "wallet",
        action: "wallet.fund_wallet",
        actor: { kind: "user", id: user.body.id },
        request_id: "e2e-fund-1",
        after: { type: "top_up", amount: "25.00", currency: "MYR" },
      });

      const verified = await call<{ ok: boolean; records_checked: number }>(
        "GET",
        "/api/v1/audit/verify",
        adminToken,
      );
      expect(verified.body.ok).toBe(true);
      expect(verified.body.records_checked).toBeGreaterThanOrEqual(2);

      const all = await call<{ data: AuditRecord[] }>("GET", "/api/v1/audit?limit=100", adminToken);
      const text = JSON.stringify(all.body);
      for (const secret of [password, platform.admin.password, adminToken, userToken]) {
        expect(text).not.toContain(secret);
      }
    },
    PLATFORM_MS,
  );
});

describe("e-mail through the platform", () => {
  test(
    "a user's top-up and payment are mailed to the address they registered; their switches are theirs to change",
    async ({ platform, inbox }) => {
      const g = platform.gatewayUrl;
      const call = async <T>(method: string, path: string, token?: string, body?: unknown) => {
        const res = await fetch(`${g}${path}`, {
          method,
          headers: {
            "content-type": "application/json",
            ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const text = await res.text();
        return { status: res.status, body: (text === "" ? {} : JSON.parse(text)) as T };
      };
      const password = "Correct horse 42 battery";
      const email = `mailed-${Date.now()}@example.com`;
      const registered = await call("POST", "/api/v1/auth/register", undefined, {
        email,
        password,
        full_name: "Mailed User",
      });
      expect(registered.status).toBe(201);
      const token = (
        await call<{ access_token: string }>("POST", "/api/v1/auth/login", undefined, { email, password })
      ).body.access_token;
      const wallet = await waitFor(async () => {
        const res = await call<{ data: Array<{ id: string }> }>("GET", "/api/v1/wallets", token);
        return res.body.data[0];
      });
      const funded = await call("POST", `/api/v1/wallets/${wallet.id}/fund`, token, {
        amount: "500.00",
        source: "visa",
      });
      expect(funded.status).toBe(201);
      const paid = await call("POST", "/api/v1/transactions", token, {
        amount: "45.50",
        currency: "MYR",
        merchant_name: "Kopi Corner",
        merchant_category: "food_beverage",
        transaction_type: "purchase",
      });
      expect(paid.status).toBe(201);

      await waitFor(() => inbox.mailsTo(email).length >= 2, { timeoutMs: 60_000 });
      expect(
        inbox
          .mailsTo(email)
          .map((m) => m.subject)
          .sort(),
      ).toEqual([
        "Payment receipt: MYR 45.50 paid to Kopi Corner",
        "Top-up receipt: MYR 500.00 added from visa",
      ]);

      const before = await call("GET", "/api/v1/users/me/notifications", token);
      expect(before).toEqual({ status: 200, body: { receipts: true, reviews: true } });
      const changed = await call<{ receipts: boolean; reviews: boolean; updated_at: string }>(
        "PUT",
        "/api/v1/users/me/notifications",
        token,
        { receipts: false },
      );
      expect(changed.status).toBe(200);
      expect(changed.body).toMatchObject({ receipts: false, reviews: true });
      expect(changed.body.updated_at).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect((await call("PUT", "/api/v1/users/me/notifications", token, { receipts: "no" })).status).toBe(
        400,
      );
    },
    PLATFORM_MS,
  );
});
