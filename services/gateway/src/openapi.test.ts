import { validate } from "@readme/openapi-parser";
import { describe, expect, it } from "vitest";
import { backends } from "./backends.js";
import { buildOpenApi } from "./openapi.js";
import { deriveRoutes } from "./transcoder.js";

type Doc = {
  paths: Record<
    string,
    Record<string, { security?: unknown[]; responses: Record<string, unknown>; requestBody?: unknown }>
  >;
  components: { schemas: Record<string, { properties?: Record<string, Record<string, unknown>> }> };
};

const doc = buildOpenApi(deriveRoutes(backends)) as unknown as Doc;

// Every docs/api.md route whose service exists so far (identity, fx, operations), as "METHOD /path".
const apiMdRoutes = [
  "POST /api/v1/auth/register",
  "POST /api/v1/auth/login",
  "POST /api/v1/auth/refresh",
  "POST /api/v1/auth/logout",
  "GET /.well-known/jwks.json",
  "GET /api/v1/users/me",
  "POST /api/v1/api-keys",
  "GET /api/v1/api-keys",
  "DELETE /api/v1/api-keys/{id}",
  "GET /api/v1/users/{id}",
  "PATCH /api/v1/users/{id}/status",
  "DELETE /api/v1/users/{id}",
  "PUT /api/v1/users/{id}/roles",
  "GET /api/v1/fx/currencies",
  "GET /api/v1/fx/rates",
  "GET /api/v1/fx/rates/{base}/{quote}",
  "POST /api/v1/fx/quotes",
  "PUT /api/v1/fx/rates/{base}/{quote}",
];

describe("the OpenAPI document", () => {
  it("is valid OpenAPI 3.1", async () => {
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid ? [] : result.errors).toEqual([]);
    expect(result.specification).toBe("OpenAPI");
    expect((doc as unknown as { openapi: string }).openapi).toBe("3.1.0");
  });

  it("has every docs/api.md route that exists so far, plus health and readiness", () => {
    const present = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(present).toEqual(expect.arrayContaining([...apiMdRoutes, "GET /health", "GET /ready"]));
  });

  it("states the success status of each route by the rule (201 creates, 204 no body, login 200)", () => {
    const statuses = (method: string, path: string) =>
      Object.keys(doc.paths[path]?.[method]?.responses ?? {}).filter((s) => s < "300");
    expect(statuses("post", "/api/v1/auth/register")).toEqual(["201"]);
    expect(statuses("post", "/api/v1/auth/login")).toEqual(["200"]);
    expect(statuses("post", "/api/v1/auth/logout")).toEqual(["204"]);
    expect(statuses("delete", "/api/v1/api-keys/{id}")).toEqual(["204"]);
    expect(statuses("post", "/api/v1/fx/quotes")).toEqual(["201"]);
    expect(statuses("get", "/api/v1/users/me")).toEqual(["200"]);
  });

  it("marks public routes and leaves the rest to bearer or API key", () => {
    expect(doc.paths["/api/v1/auth/login"]?.post?.security).toEqual([]);
    expect(doc.paths["/.well-known/jwks.json"]?.get?.security).toEqual([]);
    expect(doc.paths["/api/v1/users/me"]?.get?.security).toBeUndefined();
    expect((doc as unknown as { security: unknown }).security).toEqual([
      { bearerAuth: [] },
      { apiKeyAuth: [] },
    ]);
  });

  it("describes schemas in snake_case, enums as lower-case words, money as decimals", () => {
    const user = doc.components.schemas["fintech.identity.v1.User"]?.properties ?? {};
    expect(Object.keys(user)).toEqual(
      expect.arrayContaining(["full_name", "default_currency", "created_at"]),
    );
    expect(user.status).toEqual({ type: "string", enum: ["active", "suspended", "closed", "deleted"] });
    expect(user.roles).toEqual({ type: "array", items: { type: "string", enum: ["user", "admin"] } });
    const quote = doc.components.schemas["fintech.fx.v1.Quote"]?.properties ?? {};
    expect(quote.from_amount).toMatchObject({ type: "string", pattern: "^-?\\d+(\\.\\d+)?$" });
    const body = doc.paths["/api/v1/fx/quotes"]?.post?.requestBody as {
      content: {
        "application/json": {
          schema: { additionalProperties: boolean; properties: Record<string, { type: unknown }> };
        };
      };
    };
    const schema = body.content["application/json"].schema;
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.amount?.type).toEqual(["string", "number"]);
  });

  it("keeps path-bound fields out of request bodies", () => {
    const body = doc.paths["/api/v1/users/{id}/status"]?.patch?.requestBody as {
      content: { "application/json": { schema: { properties: Record<string, unknown> } } };
    };
    expect(Object.keys(body.content["application/json"].schema.properties)).toEqual(["status"]);
  });

  it("offers in a request body only the enum words its route takes", () => {
    type Body = { content: { "application/json": { schema: { properties: Record<string, unknown> } } } };
    const bodyOf = (path: string, verb: string) => {
      const body = doc.paths[path]?.[verb]?.requestBody as Body | undefined;
      return body?.content["application/json"].schema.properties ?? {};
    };
    expect(bodyOf("/api/v1/transactions", "post").transaction_type).toEqual({
      type: "string",
      enum: ["purchase", "top_up", "withdrawal"],
    });
    expect(bodyOf("/api/v1/users/{id}/status", "patch").status).toEqual({
      type: "string",
      enum: ["active", "suspended", "closed"],
    });
  });
});
