import { describe, expect } from "vitest";
import type { Platform, TestUser } from "./test/harness.js";
import { balanceOf, defaultWallet, platformTest } from "./test/harness.js";

// What a client retrying with the same Idempotency-Key sees: the very same body, refusals included, and the
// same request however its amount is written.
const test = platformTest();

/** POSTs `body` as written (so a JSON number keeps its form) and returns the raw answer. */
async function postRaw(p: Platform, user: TestUser, path: string, body: string, key: string) {
  const res = await fetch(`${p.url}${path}`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${user.token}`,
      "content-type": "application/json",
      "idempotency-key": key,
    },
    body,
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

describe("idempotent replays", () => {
  test("a refusal is replayed with the same body: request_id, timestamp and key order", async ({
    platform: p,
  }) => {
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    const path = `/api/v1/wallets/${w.id}/withdraw`;
    const first = await postRaw(p, ana, path, '{"amount":"5.00"}', "refused-once");
    expect(first.status).toBe(422);
    const body = JSON.parse(first.text) as { error: string; request_id: string; details: object };
    expect(body.error).toBe("INSUFFICIENT_BALANCE");
    expect(body.request_id).toBe(first.headers.get("x-request-id"));
    expect(Object.keys(body.details).length).toBeGreaterThan(1);
    for (let i = 0; i < 2; i++) {
      p.clock.set(new Date(Date.parse("2026-03-02T04:00:00Z") + i * 60_000));
      const again = await postRaw(p, ana, path, '{"amount":"5.00"}', "refused-once");
      expect(again.status).toBe(422);
      expect(again.headers.get("idempotent-replayed")).toBe("true");
      // The replay has its own X-Request-Id header; its body is the first one, byte for byte.
      expect(again.headers.get("x-request-id")).not.toBe(body.request_id);
      expect(again.text).toBe(first.text);
    }
  });

  test('an amount sent as the JSON number 1.0 and as "1.00" is the same request', async ({ platform: p }) => {
    const ana = await p.signup();
    const w = await defaultWallet(p, ana);
    const path = `/api/v1/wallets/${w.id}/fund`;
    const first = await postRaw(p, ana, path, '{"amount":1.0}', "one-ringgit");
    expect(first.status).toBe(201);
    for (const form of ['"1.00"', "1", '"1.0"']) {
      const again = await postRaw(p, ana, path, `{"amount":${form}}`, "one-ringgit");
      expect({ form, status: again.status }).toEqual({ form, status: 201 });
      expect(again.headers.get("idempotent-replayed")).toBe("true");
      expect(again.text).toBe(first.text);
    }
    expect((await balanceOf(p, ana, w.id)).available).toBe("1.00");
    const other = await postRaw(p, ana, path, '{"amount":"1.01"}', "one-ringgit");
    expect(other.status).toBe(422);
    expect(JSON.parse(other.text)).toMatchObject({ error: "IDEMPOTENCY_KEY_REUSED" });
  });
});
