import { readFile } from "node:fs/promises";
import { test as base, waitFor } from "@fintech/testing";
import type { RunningPlatform } from "@fintech/testing/platform";
import { startPlatform } from "@fintech/testing/platform";
import { describe, expect } from "vitest";
import { GENERATED_FILE, renderTypes } from "../scripts/render-types.js";
import type { FintechApiError } from "./index.js";
import { createFintechClient, isFintechApiError } from "./index.js";

// The package against the whole platform (every service's main.ts, real Postgres, NATS and Redis): its committed
// types are what openapi-typescript makes of the document the running gateway serves, and the README's first
// session runs with it as written there.

/** Starting seven processes that compile their TypeScript on a shared 2-core machine takes a while. */
const PLATFORM_MS = 300_000;

const test = base.extend<{ $file: { platform: RunningPlatform } }>({
  platform: [
    async ({ env }, use) => {
      // A database, stream namespace and key prefix of the platform's own, removed by stop().
      const platform = await startPlatform({
        databaseUrl: env.databaseUrl,
        natsUrl: env.natsUrl,
        redisUrl: env.redisUrl,
        isolate: true,
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

/** What `promise` was refused with, failing the test when it was not refused by the API. */
async function refusal(promise: Promise<unknown>): Promise<FintechApiError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isFintechApiError(err)) throw new Error(`expected the API to refuse, got ${String(err)}`);
  return err;
}

describe("@fintech/client against the running platform", () => {
  test(
    "the committed types are what openapi-typescript generates from the served /openapi.json",
    async ({ platform }) => {
      const res = await fetch(`${platform.gatewayUrl}/openapi.json`);
      expect(res.status).toBe(200);
      const fresh = await renderTypes((await res.json()) as object);
      expect(fresh).toContain('"/api/v1/wallets/{id}/fund"');
      // A difference means the client drifted: `npm run generate -w @fintech/client` and commit.
      expect(fresh === (await readFile(GENERATED_FILE, "utf8"))).toBe(true);
    },
    PLATFORM_MS,
  );

  test(
    "the README's first session: register, log in, top up, pay and read the balance",
    async ({ platform }) => {
      const baseUrl = platform.gatewayUrl;
      const email = "ana@example.com";
      const password = "Correct horse 42 battery";

      const anonymous = createFintechClient({ baseUrl });
      const user = await anonymous.POST("/api/v1/auth/register", {
        body: { email, password, full_name: "Ana Lee", timezone: "Asia/Kuala_Lumpur" },
      });
      expect(user).toMatchObject({ email, full_name: "Ana Lee", status: "active" });
      const { access_token } = await anonymous.POST("/api/v1/auth/login", { body: { email, password } });

      const ana = createFintechClient({ baseUrl, token: access_token });
      expect((await ana.GET("/api/v1/users/me")).id).toBe(user.id);
      // The default wallet opens once the registration reaches the wallet service.
      const wallet = await waitFor(
        async () => (await ana.GET("/api/v1/wallets")).data.find((w) => w.is_default),
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      expect(wallet.currency).toBe("MYR");

      const fund = () =>
        ana.POST("/api/v1/wallets/{id}/fund", {
          params: { path: { id: wallet.id }, header: { "Idempotency-Key": "fund-1" } },
          body: { amount: "500.00", source: "visa" },
        });
      const topUp = await fund();
      expect(topUp).toMatchObject({ transaction_type: "top_up", status: "completed", amount: "500.00" });
      const payment = await ana.POST("/api/v1/transactions", {
        params: { header: { "Idempotency-Key": "pay-1" } },
        body: {
          amount: "45.50",
          currency: "MYR",
          merchant_name: "Kopi Corner",
          merchant_category: "food_beverage",
          transaction_type: "purchase",
        },
      });
      expect(payment).toMatchObject({ transaction_type: "purchase", status: "completed", amount: "45.50" });

      // The same Idempotency-Key again: the first answer, and no second top-up.
      expect((await fund()).transaction_id).toBe(topUp.transaction_id);
      const replay = await ana.raw.POST("/api/v1/wallets/{id}/fund", {
        params: { path: { id: wallet.id }, header: { "Idempotency-Key": "fund-1" } },
        body: { amount: "500.00", source: "visa" },
      });
      expect(replay.response.headers.get("idempotent-replayed")).toBe("true");
      expect(replay.data?.transaction_id).toBe(topUp.transaction_id);

      const balance = await ana.GET("/api/v1/users/{user_id}/balance", {
        params: { path: { user_id: "me" } },
      });
      expect(balance).toMatchObject({ currency: "MYR", total: "454.50" });
      expect(balance.wallets.map((w) => [w.id, w.balance.available])).toEqual([[wallet.id, "454.50"]]);

      // Refusals come as the API's error body: the stable code, the message, the field.
      const tooMuch = await refusal(
        ana.POST("/api/v1/wallets/{id}/withdraw", {
          params: { path: { id: wallet.id }, header: { "Idempotency-Key": "out-1" } },
          body: { amount: "1000.00" },
        }),
      );
      expect(tooMuch).toMatchObject({ status: 422, code: "INSUFFICIENT_BALANCE", field: undefined });
      expect(tooMuch.details).toMatchObject({ available: "454.50", requested: "1000.00", currency: "MYR" });
      expect(tooMuch.message).not.toBe("");
      expect(tooMuch.requestId).toMatch(/\S/);

      const tooPrecise = await refusal(
        ana.POST("/api/v1/wallets/{id}/fund", {
          params: { path: { id: wallet.id } },
          body: { amount: "1.005" },
        }),
      );
      expect(tooPrecise).toMatchObject({ status: 400, code: "VALIDATION_ERROR", field: "amount" });

      const nobody = await refusal(anonymous.GET("/api/v1/users/me"));
      expect(nobody).toMatchObject({ status: 401, code: "UNAUTHENTICATED" });
      expect(nobody.body?.path).toBe("/api/v1/users/me");

      // The balance is still what the session left: neither the replays nor the refusals moved money.
      const after = await ana.GET("/api/v1/wallets/{id}/balance", { params: { path: { id: wallet.id } } });
      expect(after.available).toBe("454.50");
    },
    PLATFORM_MS,
  );
});
