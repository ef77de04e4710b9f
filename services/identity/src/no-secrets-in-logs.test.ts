import { Code } from "@connectrpc/connect";
import { describe, expect } from "vitest";
import {
  ADMIN_PASSWORD,
  bearer,
  expectRefusal,
  GATEWAY_SECRET,
  identityTest,
  PASSWORD,
} from "./test/harness.js";

const test = identityTest({ LOG_LEVEL: "trace" });

describe("logs", () => {
  test("no password, token or API key reaches a log line, whatever the flow", async ({ identity }) => {
    const secrets: string[] = [PASSWORD, ADMIN_PASSWORD, GATEWAY_SECRET, "Wrong-password-1"];
    const u = await identity.signUp("logged");
    secrets.push(u.accessToken, u.refreshToken);
    const next = await identity.client.refresh({ refreshToken: u.refreshToken });
    secrets.push(next.accessToken, next.refreshToken);
    await expectRefusal(
      identity.client.refresh({ refreshToken: u.refreshToken }),
      Code.Unauthenticated,
      "UNAUTHENTICATED",
    );
    for (let i = 0; i < 7; i++) {
      await identity.client.login({ email: u.email, password: "Wrong-password-1" }).catch(() => undefined);
    }
    identity.clock.advance(900_000);
    const again = await identity.client.login({ email: u.email, password: PASSWORD });
    secrets.push(again.accessToken, again.refreshToken);
    const { key } = await identity.client.createApiKey({ name: "k" }, bearer(again.accessToken));
    secrets.push(key);
    await identity.client.getMe({}, { headers: { "x-api-key": key } });
    const svc = await identity.serviceToken();
    secrets.push(svc);
    await identity.client.verifyApiKey({ key }, bearer(svc));
    await identity.client.verifyApiKey({ key: `${key}x` }, bearer(svc)).catch(() => undefined);
    await identity.client.getMe({}, bearer(`${again.accessToken}x`)).catch(() => undefined);
    await identity.client
      .register({ email: "weak@example.com", password: "short", fullName: "W" })
      .catch(() => undefined);
    await identity.client
      .issueServiceToken({ clientId: "gateway", clientSecret: "not-the-secret-0123456789" })
      .catch(() => undefined);
    secrets.push("not-the-secret-0123456789");
    await identity.client.logout({ refreshToken: again.refreshToken });

    const logs = identity.logs.join("");
    expect(identity.logs.length).toBeGreaterThan(20);
    expect(logs).toContain('"method":"Login"');
    for (const secret of secrets) {
      expect(logs).not.toContain(secret);
      // Nor a recognisable piece of one (a JWT's signature, a key's secret part).
      const tail = secret.slice(-20);
      expect(logs).not.toContain(tail);
    }
  });
});
