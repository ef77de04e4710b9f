import { create } from "@bufbuild/protobuf";
import { TransactionType } from "@fintech/proto/fintech/wallet/v1/events_pb.js";
import { GetTransactionResponseSchema } from "@fintech/proto/fintech/wallet/v1/wallet_pb.js";
import { describe, expect, it } from "vitest";
import { backends } from "./backends.js";
import { buildOpenApi } from "./openapi.js";
import { createRouter } from "./router.js";
import { deriveRoutes, renderResponse } from "./transcoder.js";

// What the fintech.api.v1 options in the protos make of the routes and of the OpenAPI document.

const routes = deriveRoutes(backends);
const router = createRouter(routes);
const routeOf = (verb: string, path: string) => {
  const m = router.match(verb, path);
  if (m.kind !== "route") throw new Error(`no route for ${verb} ${path}`);
  return m.route;
};

type Op = {
  security?: unknown[];
  "x-admin-only"?: boolean;
  description: string;
  parameters: { name: string; in: string }[];
  requestBody?: { required: boolean; content: Record<string, { schema: Json; example?: unknown }> };
  responses: Record<string, { $ref?: string }>;
};
type Json = { [key: string]: unknown };
const doc = buildOpenApi(routes) as unknown as {
  paths: Record<string, Record<string, Op>>;
  components: { schemas: Record<string, { required?: string[] }>; responses: Record<string, Json> };
};
const op = (verb: string, path: string): Op => {
  const found = doc.paths[path]?.[verb];
  if (found === undefined) throw new Error(`no operation ${verb} ${path}`);
  return found;
};

describe("routes from the proto options", () => {
  it("take access and success status from (fintech.api.v1.route)", () => {
    expect(routeOf("POST", "/api/v1/auth/login")).toMatchObject({ public: true, admin: false, status: 200 });
    expect(routeOf("POST", "/api/v1/imports")).toMatchObject({ public: false, admin: true, status: 202 });
    expect(routeOf("POST", "/api/v1/transactions")).toMatchObject({
      public: false,
      admin: false,
      idempotent: true,
      status: 201,
    });
    expect(routeOf("POST", "/api/v1/api-keys")).toMatchObject({ idempotent: false, status: 201 });
  });

  it("leave a decimal that does not apply out of the body instead of sending it empty", () => {
    const message = create(GetTransactionResponseSchema, {
      transaction: { transactionId: "t-1", amount: "4.00", transactionType: TransactionType.PURCHASE },
    });
    const body = renderResponse(routeOf("GET", "/api/v1/transactions/t-1"), message) as Json;
    expect(body).toMatchObject({ transaction_id: "t-1", amount: "4.00", original_transaction_id: "" });
    expect(body).not.toHaveProperty("rate");
    expect(body).not.toHaveProperty("to_amount");
    expect(body).not.toHaveProperty("spread_amount");
  });
});

describe("the OpenAPI document from the proto options", () => {
  it("marks admin-only operations, with their security", () => {
    for (const [verb, path] of [
      ["patch", "/api/v1/users/{id}/status"],
      ["post", "/api/v1/transactions/{id}/reverse"],
      ["get", "/api/v1/fraud/reviews"],
      ["post", "/api/v1/imports"],
    ] as const) {
      expect(op(verb, path)["x-admin-only"], `${verb} ${path}`).toBe(true);
      expect(op(verb, path).security).toEqual([{ bearerAuth: [] }, { apiKeyAuth: [] }]);
      expect(op(verb, path).description).toMatch(/^\*\*Admin only\*\*/);
    }
    expect(op("get", "/api/v1/wallets")["x-admin-only"]).toBeUndefined();
  });

  it("offers Idempotency-Key only where a route honours it", () => {
    const offers = (verb: string, path: string) =>
      op(verb, path).parameters.some((p) => p.in === "header" && p.name === "Idempotency-Key");
    expect(offers("post", "/api/v1/transactions")).toBe(true);
    expect(offers("post", "/api/v1/wallets/{id}/fund")).toBe(true);
    expect(offers("post", "/api/v1/transactions/{id}/reverse")).toBe(true);
    expect(offers("post", "/api/v1/auth/register")).toBe(false);
    expect(offers("post", "/api/v1/auth/login")).toBe(false);
    expect(offers("post", "/api/v1/api-keys")).toBe(false);
  });

  it("lists required request fields and the fields every response has", () => {
    const body = op("post", "/api/v1/transactions").requestBody;
    expect(body?.required).toBe(true);
    expect(body?.content["application/json"]?.schema.required).toEqual([
      "amount",
      "currency",
      "transaction_type",
    ]);
    expect(body?.content["application/json"]?.example).toMatchObject({ transaction_type: "purchase" });
    const transaction = doc.components.schemas["fintech.wallet.v1.Transaction"]?.required ?? [];
    expect(transaction).toEqual(expect.arrayContaining(["transaction_id", "amount", "status", "created_at"]));
    expect(transaction).not.toContain("rate");
    expect(transaction).not.toContain("to_amount");
  });

  it("documents an import's CSV and multipart bodies beside JSON", () => {
    expect(Object.keys(op("post", "/api/v1/imports").requestBody?.content ?? {})).toEqual([
      "application/json",
      "text/csv",
      "multipart/form-data",
    ]);
  });

  it("documents the error answers with their headers, per operation", () => {
    const responses = op("get", "/api/v1/wallets").responses;
    expect(Object.keys(responses)).toEqual(
      expect.arrayContaining(["401", "405", "429", "503", "504"].map(String)),
    );
    expect(Object.keys(responses)).not.toContain("413");
    expect(Object.keys(op("post", "/api/v1/wallets").responses)).toEqual(
      expect.arrayContaining(["413", "415"]),
    );
    const headersOf = (name: string) => Object.keys((doc.components.responses[name]?.headers as Json) ?? {});
    expect(headersOf("Unauthenticated")).toContain("WWW-Authenticate");
    expect(headersOf("RateLimited")).toContain("Retry-After");
    expect(headersOf("Unavailable")).toContain("Retry-After");
    expect(headersOf("MethodNotAllowed")).toContain("Allow");
  });
});
