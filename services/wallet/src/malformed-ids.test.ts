import { describe, expect } from "vitest";
import type { ErrorBody } from "./test/harness.js";
import { platformTest } from "./test/harness.js";

// One rule for an id that cannot exist, on every route with one, whichever service answers it: 400
// VALIDATION_ERROR naming the field, never a lookup that ends in 404 on some routes and not on others.
const test = platformTest();

const BAD = "not-a-uuid";

// Every route of these services with an id in its path (analytics' GET /imports/{id} follows the same rule
// in its own tests), and the id field it names.
const routes: Array<[method: string, path: string, field: string, json?: unknown]> = [
  ["GET", `/api/v1/users/${BAD}`, "id"],
  ["PATCH", `/api/v1/users/${BAD}/status`, "id", { status: "suspended" }],
  ["DELETE", `/api/v1/users/${BAD}`, "id"],
  ["PUT", `/api/v1/users/${BAD}/roles`, "id", { roles: ["user"] }],
  ["DELETE", `/api/v1/api-keys/${BAD}`, "id"],
  ["GET", `/api/v1/users/${BAD}/balance`, "user_id"],
  ["GET", `/api/v1/wallets/${BAD}`, "id"],
  ["GET", `/api/v1/wallets/${BAD}/balance`, "id"],
  ["GET", `/api/v1/wallets/${BAD}/transactions`, "id"],
  ["POST", `/api/v1/wallets/${BAD}/fund`, "id", { amount: "1.00" }],
  ["POST", `/api/v1/wallets/${BAD}/withdraw`, "id", { amount: "1.00" }],
  ["POST", `/api/v1/wallets/${BAD}/convert`, "id", { to_currency: "USD", amount: "1.00" }],
  ["POST", `/api/v1/wallets/${BAD}/payout`, "id", { destination: "wire", reason: "closed" }],
  ["GET", `/api/v1/transactions/${BAD}`, "id"],
  ["GET", `/api/v1/transactions?user_id=${BAD}`, "user_id"],
  ["PATCH", `/api/v1/transactions/${BAD}`, "id", { description: "x" }],
  ["POST", `/api/v1/transactions/${BAD}/refund`, "id", {}],
  ["POST", `/api/v1/transactions/${BAD}/reverse`, "id", { reason: "mistake" }],
  ["POST", `/api/v1/fraud/reviews/${BAD}/decision`, "transaction_id", { decision: "approve" }],
  ["GET", `/api/v1/fx/quotes/${BAD}`, "quote_id"],
];

describe("malformed ids", () => {
  test("every route with an id answers a malformed one 400 VALIDATION_ERROR naming the field", async ({
    platform: p,
  }) => {
    const admin = await p.admin();
    const answers = [];
    for (const [method, path, , json] of routes) {
      const res = await p.api<ErrorBody>(method, path, {
        token: admin.token,
        ...(json !== undefined && { json }),
      });
      answers.push({
        route: `${method} ${path}`,
        status: res.status,
        error: res.body.error,
        field: res.body.details?.field,
      });
    }
    expect(answers).toEqual(
      routes.map(([method, path, field]) => ({
        route: `${method} ${path}`,
        status: 400,
        error: "VALIDATION_ERROR",
        field,
      })),
    );
  });

  test("a well-formed id that does not exist is 404 NOT_FOUND", async ({ platform: p }) => {
    const admin = await p.admin();
    const missing = "00000000-0000-4000-8000-000000000000";
    for (const path of [
      `/api/v1/users/${missing}`,
      `/api/v1/users/${missing}/balance`,
      `/api/v1/wallets/${missing}`,
    ]) {
      const res = await p.api<ErrorBody>("GET", path, { token: admin.token });
      expect({ path, status: res.status, error: res.body.error }).toEqual({
        path,
        status: 404,
        error: "NOT_FOUND",
      });
    }
  });
});
