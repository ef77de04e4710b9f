import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { GetSummaryResponseSchema } from "@fintech/proto/fintech/analytics/v1/analytics_pb.js";
import {
  GetUserResponseSchema,
  ListApiKeysResponseSchema,
  Role,
  UserStatus,
} from "@fintech/proto/fintech/identity/v1/identity_pb.js";
import { describe, expect, it } from "vitest";
import { backends } from "./backends.js";
import { isGatewayError } from "./errors.js";
import { parseJson } from "./message-json.js";
import { parsePathTemplate } from "./path-template.js";
import { createRouter } from "./router.js";
import { bindRequest, deriveRoutes, renderResponse } from "./transcoder.js";

const router = createRouter(deriveRoutes(backends));

function route(verb: string, path: string) {
  const m = router.match(verb, path);
  if (m.kind !== "route") throw new Error(`no route for ${verb} ${path}`);
  return m;
}

function bind(verb: string, path: string, body?: string, query = "") {
  const m = route(verb, path);
  return bindRequest(m.route, {
    pathValues: m.pathValues,
    query: new URLSearchParams(query),
    body: body === undefined ? undefined : parseJson(body),
  }) as unknown as Record<string, unknown>;
}

function refusal(fn: () => unknown): { field?: string | undefined; message: string } {
  try {
    fn();
  } catch (err) {
    if (isGatewayError(err)) return { field: err.details.field, message: err.message };
    throw err;
  }
  throw new Error("expected a refusal");
}

describe("path templates", () => {
  it("matches literals, single-segment and rest variables and a verb, percent-decoding values", () => {
    const t = parsePathTemplate("/v1/{name=shelves/*}/books/{rest=**}:archive");
    expect(t.fields).toEqual(["name", "rest"]);
    expect(t.match("/v1/shelves/s%201/books/a/b/c:archive")).toEqual(
      new Map([
        ["name", "shelves/s 1"],
        ["rest", "a/b/c"],
      ]),
    );
    expect(t.match("/v1/shelves/s1/books/a:other")).toBeUndefined();
    expect(parsePathTemplate("/a/{id}").match("/a/")).toBeUndefined();
    expect(parsePathTemplate("/a/{id}").match("/a/x/y")).toBeUndefined();
  });

  it("refuses templates that break the grammar", () => {
    for (const bad of ["a/b", "/a//b", "/a/{id", "/a/{Id}", "/a/**/b", "/{x}/{x}"]) {
      expect(() => parsePathTemplate(bad), bad).toThrow(
        /path template|segment|variable|field|must come last|bound twice|braces/,
      );
    }
  });

  it("prefers the literal /users/me over /users/{id}", () => {
    expect(route("GET", "/api/v1/users/me").route.method.name).toBe("GetMe");
    expect(route("GET", "/api/v1/users/42").route.method.name).toBe("GetUser");
    expect(router.match("POST", "/api/v1/users/42")).toEqual({
      kind: "method_not_allowed",
      allow: ["DELETE", "GET"],
    });
    expect(router.match("GET", "/api/v1/users/42/nothing")).toEqual({ kind: "not_found" });
  });

  it("finds every route by a path of its own, and a trailing ** at any length", () => {
    for (const r of router.routes) {
      const path = r.template.openApiPath.replace(/\{[^}]+\}/g, "x");
      expect(route(r.verb, path).route.key, r.key).toBe(r.key);
    }
    const [some] = router.routes;
    if (some === undefined) throw new Error("no routes");
    const files = {
      ...some,
      verb: "GET",
      template: parsePathTemplate("/api/v1/files/{path=**}"),
      key: "files",
    };
    const withFiles = createRouter([...router.routes, files]);
    const deep = `/api/v1/files/${Array.from({ length: 12 }, (_, i) => `d${i}`).join("/")}`;
    const found = withFiles.match("GET", deep);
    expect(found.kind === "route" && found.route.key).toBe("files");
    expect(found.kind === "route" && found.pathValues.get("path")).toBe(deep.slice("/api/v1/files/".length));
    const bare = withFiles.match("GET", "/api/v1/files");
    expect(bare.kind === "route" && bare.pathValues.get("path")).toBe("");
    expect(withFiles.match("PUT", deep)).toEqual({ kind: "method_not_allowed", allow: ["GET"] });
  });
});

describe("request binding", () => {
  it("takes enum values as lower-case words and binds path ids", () => {
    expect(bind("PATCH", "/api/v1/users/u-1/status", '{"status":"suspended"}')).toMatchObject({
      id: "u-1",
      status: UserStatus.SUSPENDED,
    });
    expect(bind("PUT", "/api/v1/users/u-1/roles", '{"roles":["user","admin"]}')).toMatchObject({
      roles: [Role.USER, Role.ADMIN],
    });
  });

  it("refuses unknown enum words and the zero value, listing the allowed ones", () => {
    const bad = refusal(() => bind("PATCH", "/api/v1/users/u-1/status", '{"status":"unspecified"}'));
    expect(bad).toEqual({ field: "status", message: "status must be one of: active, suspended, closed" });
    expect(refusal(() => bind("PUT", "/api/v1/users/u-1/roles", '{"roles":["root"]}')).field).toBe(
      "roles[0]",
    );
  });

  it("refuses mass assignment in register: role, status and anything unknown", () => {
    const register = (extra: string) =>
      refusal(() =>
        bind(
          "POST",
          "/api/v1/auth/register",
          `{"email":"a@example.com","password":"pw","full_name":"A",${extra}}`,
        ),
      );
    expect(register('"role":"admin"')).toMatchObject({ field: "role" });
    expect(register('"status":"active"')).toMatchObject({ field: "status" });
    expect(register('"roles":["admin"]')).toMatchObject({ field: "roles" });
  });

  it("binds list query parameters and refuses query parameters on body '*' routes", () => {
    expect(bind("GET", "/api/v1/api-keys", undefined, "limit=5&cursor=abc")).toMatchObject({
      limit: 5,
      cursor: "abc",
    });
    expect(refusal(() => bind("GET", "/api/v1/api-keys", undefined, "limit=5&limit=6")).field).toBe("limit");
    expect(refusal(() => bind("GET", "/api/v1/api-keys", undefined, "limit=99999999999")).field).toBe(
      "limit",
    );
    expect(refusal(() => bind("POST", "/api/v1/auth/login", '{"email":"a"}', "password=x")).field).toBe(
      "password",
    );
  });

  it("refuses control characters wherever text comes from, naming the field", () => {
    expect(refusal(() => bind("POST", "/api/v1/auth/login", '{"email":"a\\u0000b","password":"x"}'))).toEqual(
      {
        field: "email",
        message: expect.stringContaining("U+0000"),
      },
    );
    expect(
      refusal(() => bind("PATCH", "/api/v1/transactions/t1", '{"tags":["ok","\\u001b[2J"]}')).field,
    ).toBe("tags[1]");
    expect(refusal(() => bind("GET", "/api/v1/fx/rates", undefined, "base=MY%00R")).field).toBe("base");
    expect(refusal(() => bind("GET", "/api/v1/wallets/w%001")).field).toBe("id");
    expect(refusal(() => bind("POST", "/api/v1/imports", '"timestamp,type\\n\\u0000"')).field).toBe("csv");
    expect(
      refusal(() => bind("POST", "/api/v1/auth/login", '{"email":"\\ud800","password":"x"}')).field,
    ).toBe("email");
    // Free text keeps its tabs and line breaks.
    expect(bind("PATCH", "/api/v1/transactions/t1", '{"description":"line 1\\n\\tline 2"}')).toMatchObject({
      description: "line 1\n\tline 2",
    });
  });

  it("treats null as absent and an empty body as {}", () => {
    expect(bind("PATCH", "/api/v1/users/me", '{"full_name":null,"timezone":"UTC"}')).toMatchObject({
      timezone: "UTC",
    });
    expect(bind("POST", "/api/v1/auth/logout")).toMatchObject({ refreshToken: "" });
  });
});

describe("response rendering", () => {
  it("renders snake_case, lower-case enums, RFC 3339 times and response_body", () => {
    const m = route("GET", "/api/v1/users/u-1");
    const msg = create(GetUserResponseSchema, {
      user: {
        id: "u-1",
        email: "a@example.com",
        fullName: "A",
        status: UserStatus.ACTIVE,
        roles: [Role.USER, Role.ADMIN],
        timezone: "UTC",
        defaultCurrency: "MYR",
        createdAt: timestampFromDate(new Date("2026-03-01T08:00:00Z")),
      },
    });
    expect(renderResponse(m.route, msg)).toEqual({
      id: "u-1",
      email: "a@example.com",
      full_name: "A",
      status: "active",
      timezone: "UTC",
      default_currency: "MYR",
      roles: ["user", "admin"],
      created_at: "2026-03-01T08:00:00Z",
    });
  });

  it("renders 64-bit counts as JSON numbers while they are exact, and money as decimal strings", () => {
    const m = route("GET", "/api/v1/analytics/summary");
    const counted = renderResponse(
      m.route,
      create(GetSummaryResponseSchema, {
        currency: "MYR",
        transactionCount: 42n,
        averageTransactionValue: "12.50",
      }),
    ) as Record<string, unknown>;
    expect(counted).toMatchObject({
      currency: "MYR",
      transaction_count: 42,
      average_transaction_value: "12.50",
    });
    const huge = renderResponse(
      m.route,
      create(GetSummaryResponseSchema, { transactionCount: 9_007_199_254_740_993n }),
    ) as Record<string, unknown>;
    expect(huge.transaction_count).toBe("9007199254740993");
  });

  it("shows empty lists and false flags, and sends no body for 204 routes", () => {
    const list = route("GET", "/api/v1/api-keys");
    expect(renderResponse(list.route, create(ListApiKeysResponseSchema, {}))).toEqual({
      data: [],
      has_more: false,
      next_cursor: "",
    });
    const del = route("DELETE", "/api/v1/api-keys/k-1");
    expect(del.route.status).toBe(204);
  });
});
