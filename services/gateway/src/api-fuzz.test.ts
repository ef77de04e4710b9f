import { test as base } from "@fintech/testing";
import type { RunningPlatform } from "@fintech/testing/platform";
import { startPlatform } from "@fintech/testing/platform";
import fc from "fast-check";
import { describe, expect } from "vitest";
import type { ErrorBody } from "./test/harness.js";
import type { FuzzRequest, Known, OpenApiDocument } from "./test/openapi-arbitraries.js";
import { operationsOf, requestFor } from "./test/openapi-arbitraries.js";
import { specProblem } from "./test/spec-check.js";

// A black-box fuzz of the public API: every operation in /openapi.json, against the whole platform (every
// service's main.ts, real Postgres, NATS and Redis), with mutated requests from fast-check, anonymous and
// with a user's and an admin's token. Whatever a client sends, the answer is never a 5xx, every error has
// docs/api.md's body, and every response has X-Request-Id. Seeded (API_FUZZ_SEED) and bounded in time
// (API_FUZZ_SECONDS, default 60); a failure prints the request and the seed to replay it.

const SEED = Number(process.env.API_FUZZ_SEED ?? 20_261_206);
const SECONDS = Number(process.env.API_FUZZ_SECONDS ?? 60);
const PASSWORD = "Correct horse 42 battery";

interface Seeded {
  platform: RunningPlatform;
  tokens: { user: string; admin: string };
  known: Known;
}

const test = base.extend<{ $file: { seeded: Seeded } }>({
  seeded: [
    async ({ env }, use) => {
      // A database, stream namespace and key prefix of the platform's own, removed by stop().
      const platform = await startPlatform({
        databaseUrl: env.databaseUrl,
        natsUrl: env.natsUrl,
        redisUrl: env.redisUrl,
        isolate: true,
        env: { RATE_LIMIT_RPS: "100000", RATE_LIMIT_BURST: "100000" },
      });
      try {
        await use(await seed(platform));
      } finally {
        await platform.stop();
      }
    },
    { scope: "file" },
  ],
});

async function call(
  url: string,
  method: string,
  path: string,
  init: { token?: string; json?: unknown; body?: string; headers?: Record<string, string> } = {},
) {
  const headers = new Headers(init.headers);
  if (init.token !== undefined) headers.set("authorization", `Bearer ${init.token}`);
  let body = init.body;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    headers.set("content-type", "application/json");
  }
  const res = await fetch(`${url}${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body }),
    redirect: "manual",
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    text,
    json: () => JSON.parse(text) as Record<string, unknown>,
  };
}

/** A user with wallets, money and a purchase, a second user, an API key and an import: ids worth naming. */
async function seed(platform: RunningPlatform): Promise<Seeded> {
  const url = platform.gatewayUrl;
  const signUp = async (email: string) => {
    const reg = await call(url, "POST", "/api/v1/auth/register", {
      json: { email, password: PASSWORD, full_name: "Fuzz Target", timezone: "Asia/Kuala_Lumpur" },
    });
    expect(reg.status, reg.text).toBe(201);
    const login = await call(url, "POST", "/api/v1/auth/login", { json: { email, password: PASSWORD } });
    expect(login.status, login.text).toBe(200);
    return { id: String(reg.json().id), token: String(login.json().access_token) };
  };
  const user = await signUp("fuzz-user@example.com");
  const other = await signUp("fuzz-other@example.com");
  const adminLogin = await call(url, "POST", "/api/v1/auth/login", {
    json: { email: platform.admin.email, password: platform.admin.password },
  });
  expect(adminLogin.status, adminLogin.text).toBe(200);
  const admin = String(adminLogin.json().access_token);

  // Not the user's own id: an admin's DELETE or status change on it would end the fuzz's user early.
  const ids = [other.id];
  const wallets = await call(url, "GET", "/api/v1/wallets", { token: user.token });
  const [myr] = (wallets.json().data as Array<{ id: string }> | undefined) ?? [];
  expect(myr, wallets.text).toBeDefined();
  const walletId = myr?.id ?? "";
  ids.push(walletId);
  const sgd = await call(url, "POST", "/api/v1/wallets", { token: user.token, json: { currency: "SGD" } });
  if (sgd.status === 201) ids.push(String(sgd.json().id));
  const funded = await call(url, "POST", `/api/v1/wallets/${walletId}/fund`, {
    token: user.token,
    json: { amount: "1000.00", source: "visa" },
    headers: { "idempotency-key": "fuzz-fund-1" },
  });
  expect(funded.status, funded.text).toBe(201);
  const purchase = await call(url, "POST", "/api/v1/transactions", {
    token: user.token,
    json: {
      amount: "12.50",
      currency: "MYR",
      merchant_name: "Kopi Corner",
      merchant_category: "food_beverage",
      transaction_type: "purchase",
    },
    headers: { "idempotency-key": "fuzz-pay-1" },
  });
  expect(purchase.status, purchase.text).toBe(201);
  ids.push(String(purchase.json().transaction_id));
  const key = await call(url, "POST", "/api/v1/api-keys", { token: user.token, json: { name: "fuzz" } });
  if (key.status === 201) ids.push(String(key.json().id));
  const imported = await call(url, "POST", "/api/v1/imports", {
    token: admin,
    body: "timestamp,type,provider,amount\n2026-03-01T10:00:00Z,deposit,visa,10.00\n",
    headers: { "content-type": "text/csv" },
  });
  if (imported.status === 202) ids.push(String(imported.json().import_id));
  ids.push("00000000-0000-0000-0000-000000000000", "not-an-id");
  return {
    platform,
    tokens: { user: user.token, admin },
    known: { ids, currencies: ["MYR", "SGD", "USD"] },
  };
}

const ERROR_KEYS = ["details", "error", "message", "path", "request_id", "timestamp"];

describe("the public API under fuzzing", () => {
  test(
    "no request of any shape gets a 5xx; every error has docs/api.md's body and every answer an X-Request-Id",
    async ({ seeded }) => {
      const { platform, tokens, known } = seeded;
      const docRes = await call(platform.gatewayUrl, "GET", "/openapi.json", { token: tokens.user });
      expect(docRes.status).toBe(200);
      const doc = docRes.json() as unknown as OpenApiDocument;
      const operations = operationsOf(doc);
      expect(operations.length).toBeGreaterThan(30);

      const tried = new Map<string, number>();
      const statuses = new Map<number, number>();
      const reasons = new Map<string, number>();
      const send = async (r: FuzzRequest) => {
        const headers = { ...r.headers };
        if (r.principal !== "anonymous") headers.authorization = `Bearer ${tokens[r.principal]}`;
        let res: Response;
        let text: string;
        try {
          res = await fetch(`${platform.gatewayUrl}${r.url}`, {
            method: r.method,
            headers,
            ...(r.method === "GET" || r.method === "HEAD" || r.body === undefined ? {} : { body: r.body }),
            redirect: "manual",
            signal: AbortSignal.timeout(20_000),
          });
          text = await res.text();
        } catch (err) {
          throw new Error(`${r.method} ${r.url.slice(0, 300)} as ${r.principal} failed: ${String(err)}`, {
            cause: err,
          });
        }
        tried.set(r.operation, (tried.get(r.operation) ?? 0) + 1);
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (process.env.API_FUZZ_REPORT !== undefined && res.status < 300) {
          const k = `${r.operation} ${res.status}`;
          reasons.set(k, (reasons.get(k) ?? 0) + 1);
        }
        if (process.env.API_FUZZ_REPORT !== undefined && res.status >= 400) {
          const k = `${r.operation} ${res.status} ${text.slice(0, 120)}`.replace(/"request_id".*/, "");
          reasons.set(k, (reasons.get(k) ?? 0) + 1);
        }
        const what = `${r.method} ${r.url.slice(0, 300)} as ${r.principal} -> ${res.status} ${text.slice(0, 500)}`;
        if (res.status >= 500) {
          // What the platform logged about this request (services log the gateway's request id).
          const id = res.headers.get("x-request-id") ?? "";
          const logged = platform
            .logs()
            .split("\n")
            .filter((l) => id !== "" && l.includes(id))
            .join("\n");
          expect.fail(`${what}\n${logged.slice(0, 4000)}`);
        }
        const requestId = res.headers.get("x-request-id");
        expect(requestId, what).toBeTruthy();
        // Whatever was sent, the answer is one the OpenAPI document describes.
        expect(specProblem(r.method, r.url, res.status, res.headers, text), what).toBeUndefined();
        if (res.status >= 400) {
          const body = JSON.parse(text) as ErrorBody;
          expect(Object.keys(body).sort(), what).toEqual(ERROR_KEYS);
          expect(typeof body.error === "string" && typeof body.message === "string", what).toBe(true);
          expect(body.details !== null && typeof body.details === "object", what).toBe(true);
          expect(body.request_id, what).toBe(requestId);
          expect(Number.isNaN(Date.parse(body.timestamp)), what).toBe(false);
          // The path as sent (fetch resolves dot segments, as any client does).
          expect(new URL(`${platform.gatewayUrl}${r.url}`).pathname.startsWith(body.path), what).toBe(true);
        }
      };

      const requests = fc.constantFrom(...operations).chain((op) => requestFor(op, doc, known));
      await fc.assert(fc.asyncProperty(requests, send), {
        seed: SEED,
        numRuns: 1_000_000,
        interruptAfterTimeLimit: SECONDS * 1000,
        markInterruptAsFailure: false,
        endOnFailure: true,
      });

      if (process.env.API_FUZZ_REPORT !== undefined) {
        const { writeFileSync } = await import("node:fs");
        writeFileSync(
          process.env.API_FUZZ_REPORT,
          JSON.stringify(
            {
              statuses: Object.fromEntries(statuses),
              tried: Object.fromEntries(tried),
              reasons: Object.fromEntries([...reasons].sort((a, b) => b[1] - a[1]).slice(0, 3000)),
            },
            null,
            1,
          ),
        );
      }
      // Most operations were reached, some requests got through to a success, and nothing failed inside a
      // service either.
      const succeeded = [...statuses].filter(([s]) => s < 300).reduce((sum, [, n]) => sum + n, 0);
      expect(succeeded).toBeGreaterThan(0);
      expect(tried.size, [...tried.keys()].join("\n")).toBeGreaterThan(operations.length * 0.8);
      const logs = platform.logs();
      for (const sign of ["unhandled error in RPC handler", "request failed"]) {
        const line = logs.split("\n").find((l) => l.includes(sign));
        expect(line, "a request failed inside the platform").toBeUndefined();
      }
    },
    (SECONDS + 300) * 1000,
  );

  // The document's access per operation comes from the proto's (fintech.api.v1.route) options; the services
  // enforce their own access tables. Asked with no body and ids that exist nowhere, they must agree: an admin-only
  // operation refuses a user (403, checked before the request is), a public one needs no credential, any other
  // needs one (401).
  test("every operation's documented access is the one the services enforce", async ({ seeded }) => {
    const { platform, tokens } = seeded;
    const docRes = await call(platform.gatewayUrl, "GET", "/openapi.json", { token: tokens.user });
    const doc = docRes.json() as {
      paths: Record<string, Record<string, { security?: unknown[]; "x-admin-only"?: boolean }>>;
    };
    let checked = 0;
    for (const [template, item] of Object.entries(doc.paths)) {
      if (template === "/health" || template === "/ready") continue;
      const path = template.replace(/\{[^}]+\}/g, "00000000-0000-4000-8000-000000000000");
      for (const [verb, op] of Object.entries(item)) {
        const method = verb.toUpperCase();
        const asUser = await call(platform.gatewayUrl, method, path, { token: tokens.user });
        const anonymous = await call(platform.gatewayUrl, method, path);
        const what = (r: { status: number; text: string }) =>
          `${method} ${template} -> ${r.status} ${r.text}`;
        for (const r of [asUser, anonymous])
          expect(specProblem(method, path, r.status, r.headers, r.text), what(r)).toBeUndefined();
        if (op["x-admin-only"] === true) expect(asUser.status, what(asUser)).toBe(403);
        else expect(asUser.status, what(asUser)).not.toBe(403);
        const isPublic = Array.isArray(op.security) && op.security.length === 0;
        if (isPublic) expect(anonymous.status, what(anonymous)).not.toBe(401);
        else expect(anonymous.status, what(anonymous)).toBe(401);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(30);
  });
});
