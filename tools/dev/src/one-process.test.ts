import { randomBytes } from "node:crypto";
import type { Interceptor } from "@connectrpc/connect";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createLogger } from "@fintech/platform";
import { IdentityService } from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import { LedgerService } from "@fintech/proto/fintech/ledger/v1/ledger_pb.js";
import { freePorts, startOtlpReceiver, test, waitFor } from "@fintech/testing";
import { describe, expect } from "vitest";
import type { OneProcessPlatform, PlatformService } from "./one-process.js";
import { ONE_PROCESS_ORDER, startOneProcess } from "./one-process.js";

const bearer =
  (token: string): Interceptor =>
  (next) =>
  (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };

/** A URL nothing answers at (port 1 on loopback). */
const NOWHERE = "http://127.0.0.1:1";

function unexpected(): never {
  throw new Error("expected the call to be refused");
}

/** The README's first session, against the gateway of a platform running in this one process. */
describe("the platform in one process", () => {
  test("serves the README's first session through the gateway, and still checks every in-process call's token", async ({
    pg: db,
    nats,
    redis,
  }) => {
    const schemas = ONE_PROCESS_ORDER.map((name) => `${db.schema}_${name}`);
    const secrets = Object.fromEntries(
      ONE_PROCESS_ORDER.map((name) => [name, randomBytes(18).toString("base64url")]),
    );
    // A client of the test's own at identity, to call the ledger as a service would.
    const probeSecret = randomBytes(18).toString("base64url");
    const ports = await freePorts(ONE_PROCESS_ORDER.length * 2);
    const envs = Object.fromEntries(
      ONE_PROCESS_ORDER.map((name, i) => {
        const env: NodeJS.ProcessEnv = {
          PATH: process.env.PATH,
          DATABASE_URL: db.url,
          DB_SCHEMA: `${db.schema}_${name}`,
          NATS_URL: nats.url,
          EVENTS_NAMESPACE: nats.namespace,
          REDIS_URL: redis.url,
          REDIS_PREFIX: `${redis.prefix}${name}:`,
          RATE_LIMIT_PREFIX: `${redis.prefix}rl:`,
          HOST: "127.0.0.1",
          PORT: String(ports[2 * i]),
          METRICS_PORT: String(ports[2 * i + 1]),
          LOG_LEVEL: "warn",
          // Nothing listens there: every call between services must go in-process to succeed.
          ...Object.fromEntries(
            ONE_PROCESS_ORDER.filter((n) => n !== "gateway").map((n) => [`${n.toUpperCase()}_URL`, NOWHERE]),
          ),
        };
        if (name === "identity") {
          env.SERVICE_CREDENTIALS = [
            ...ONE_PROCESS_ORDER.filter((n) => n !== "identity").map((n) => `${n}:${secrets[n]}`),
            `probe:${probeSecret}`,
          ].join(",");
        } else {
          env.SERVICE_CLIENT_SECRET = secrets[name];
        }
        return [name, env];
      }),
    ) as Record<PlatformService, NodeJS.ProcessEnv>;
    const lines: string[] = [];
    const logger = (name: PlatformService, env: NodeJS.ProcessEnv) =>
      createLogger({
        name,
        level: env.LOG_LEVEL,
        destination: { write: (line: string) => lines.push(line) },
      });

    // Traces go where the process's OTEL_* variables say, as each service's own process would send them.
    const collector = await startOtlpReceiver();
    const telemetryEnv = { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_BSP_SCHEDULE_DELAY: "100" };
    let platform: OneProcessPlatform | undefined;
    try {
      platform = await startOneProcess(envs, { logger, env: telemetryEnv });
      const G = platform.listening.gateway.url;
      const json = { "content-type": "application/json" };

      const registered = await fetch(`${G}/api/v1/auth/register`, {
        method: "POST",
        headers: json,
        body: JSON.stringify({
          email: "ana@example.com",
          password: "Correct horse 42 battery",
          full_name: "Ana Lee",
          timezone: "Asia/Kuala_Lumpur",
        }),
      });
      expect(registered.status).toBe(201);
      const login = await fetch(`${G}/api/v1/auth/login`, {
        method: "POST",
        headers: json,
        body: JSON.stringify({ email: "ana@example.com", password: "Correct horse 42 battery" }),
      });
      expect(login.status).toBe(200);
      const { access_token: token } = (await login.json()) as { access_token: string };
      const auth = { authorization: `Bearer ${token}` };

      // The default MYR wallet opens at registration, once the wallet has heard identity's event.
      const wallet = await waitFor(
        async () => {
          const res = await fetch(`${G}/api/v1/wallets`, { headers: auth });
          const body = (await res.json()) as { data?: Array<{ id: string; currency: string }> };
          return body.data?.[0];
        },
        { timeoutMs: 30_000 },
      );
      expect(wallet.currency).toBe("MYR");

      const fund = await fetch(`${G}/api/v1/wallets/${wallet.id}/fund`, {
        method: "POST",
        headers: { ...auth, ...json, "idempotency-key": "fund-1" },
        body: JSON.stringify({ amount: "500.00", source: "visa" }),
      });
      expect(fund.status).toBe(201);
      const pay = await fetch(`${G}/api/v1/transactions`, {
        method: "POST",
        headers: { ...auth, ...json, "idempotency-key": "pay-1" },
        body: JSON.stringify({
          amount: "45.50",
          currency: "MYR",
          merchant_name: "Kopi Corner",
          merchant_category: "food_beverage",
          transaction_type: "purchase",
        }),
      });
      expect(pay.status).toBe(201);
      expect(((await pay.json()) as { status: string }).status).toBe("completed");
      // The same key again moves no money a second time.
      const again = await fetch(`${G}/api/v1/transactions`, {
        method: "POST",
        headers: { ...auth, ...json, "idempotency-key": "pay-1" },
        body: JSON.stringify({
          amount: "45.50",
          currency: "MYR",
          merchant_name: "Kopi Corner",
          merchant_category: "food_beverage",
          transaction_type: "purchase",
        }),
      });
      expect(again.status).toBe(201);

      const balance = await fetch(`${G}/api/v1/users/me/balance`, { headers: auth });
      expect(balance.status).toBe(200);
      expect(await balance.json()).toMatchObject({ currency: "MYR", total: "454.50" });

      // In-process, the ledger still checks every caller: no token, then the user's own token, are refused.
      const ledgerTransport = platform.transports.ledger;
      const identityTransport = platform.transports.identity;
      if (ledgerTransport === undefined || identityTransport === undefined) throw new Error("no transports");
      const anonymous = await createClient(LedgerService, ledgerTransport())
        .checkIntegrity({})
        .then(unexpected, (e: unknown) => ConnectError.from(e));
      expect(anonymous.code).toBe(Code.Unauthenticated);
      const asUser = await createClient(LedgerService, ledgerTransport({ interceptors: [bearer(token)] }))
        .checkIntegrity({})
        .then(unexpected, (e: unknown) => ConnectError.from(e));
      expect(asUser.code).toBe(Code.PermissionDenied);
      // A service token from identity (also in-process) is let through, and the book balances.
      const issued = await createClient(IdentityService, identityTransport()).issueServiceToken({
        clientId: "probe",
        clientSecret: probeSecret,
      });
      const integrity = await createClient(
        LedgerService,
        ledgerTransport({ interceptors: [bearer(issued.accessToken)] }),
      ).checkIntegrity({});
      expect(integrity.ok).toBe(true);
      expect(integrity.transfersChecked).toBeGreaterThanOrEqual(2n);

      // The purchase is one trace: the gateway's request, and under it each service's RPC, in-process as they are.
      const paid = await waitFor(() => {
        const traces = collector.spans
          .filter((x) => x.name === "POST /api/v1/transactions")
          .map((root) => collector.spans.filter((x) => x.traceId === root.traceId));
        return traces.find((spans) =>
          spans.some((x) => x.name === "fintech.ledger.v1.LedgerService/CreateTransfers"),
        );
      });
      const served = paid.filter((x) => x.kind === "server").map((x) => `${x.service} ${x.name}`);
      expect(served).toEqual(
        expect.arrayContaining([
          "one-process POST /api/v1/transactions",
          "one-process fintech.wallet.v1.WalletService/CreateTransaction",
          "one-process fintech.fraud.v1.FraudService/Score",
          "one-process fintech.ledger.v1.LedgerService/CreateTransfers",
        ]),
      );
    } finally {
      await platform?.stop();
      await collector.close();
      for (const schema of schemas) await db.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    }
    expect(lines.filter((l) => l.includes('"level":"error"'))).toEqual([]);
  }, 180_000);
});
