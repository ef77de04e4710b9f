import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { ScalarType } from "@bufbuild/protobuf";
import { enumNames, isMoneyField, isWellKnown, leafOf } from "./message-json.js";
import type { Route } from "./transcoder.js";

/** A JSON Schema / OpenAPI object. */
type Json = { [key: string]: unknown };
type Direction = "input" | "output";

const DECIMAL_PATTERN = "^-?\\d+(\\.\\d+)?$";
const INT32 = new Set([ScalarType.INT32, ScalarType.SINT32, ScalarType.SFIXED32]);
const UINT32 = new Set([ScalarType.UINT32, ScalarType.FIXED32]);

const wellKnown: Record<string, Json> = {
  "google.protobuf.Timestamp": { type: "string", format: "date-time", examples: ["2026-03-01T08:00:00Z"] },
  "google.protobuf.Duration": { type: "string", pattern: "^-?\\d+(\\.\\d{1,9})?s$", examples: ["30s"] },
  "google.protobuf.FieldMask": { type: "string", description: "Comma-separated field paths." },
  "google.protobuf.Empty": { type: "object", additionalProperties: false },
  "google.protobuf.Struct": { type: "object" },
  "google.protobuf.Value": {},
  "google.protobuf.ListValue": { type: "array" },
  "google.protobuf.Any": { type: "object", properties: { "@type": { type: "string" } } },
  "google.protobuf.StringValue": { type: ["string", "null"] },
  "google.protobuf.BytesValue": { type: ["string", "null"], contentEncoding: "base64" },
  "google.protobuf.BoolValue": { type: ["boolean", "null"] },
  "google.protobuf.Int32Value": { type: ["integer", "null"], format: "int32" },
  "google.protobuf.UInt32Value": { type: ["integer", "null"], minimum: 0 },
  "google.protobuf.Int64Value": { type: ["string", "null"], format: "int64" },
  "google.protobuf.UInt64Value": { type: ["string", "null"], format: "uint64" },
  "google.protobuf.DoubleValue": { type: ["number", "null"] },
  "google.protobuf.FloatValue": { type: ["number", "null"] },
};

const errorResponses: Record<string, { name: string; description: string }> = {
  "400": {
    name: "BadRequest",
    description: "VALIDATION_ERROR: a bad field (details.field names it), malformed JSON",
  },
  "401": { name: "Unauthenticated", description: "UNAUTHENTICATED: missing or invalid credential" },
  "403": { name: "Forbidden", description: "FORBIDDEN: the caller lacks the role" },
  "404": { name: "NotFound", description: "NOT_FOUND (also another user's object)" },
  "409": { name: "Conflict", description: "CONFLICT, EMAIL_TAKEN, WALLET_EXISTS, IDEMPOTENCY_KEY_IN_USE" },
  "413": { name: "PayloadTooLarge", description: "PAYLOAD_TOO_LARGE: body over 1 MiB" },
  "422": {
    name: "Unprocessable",
    description: "A business rule refused the request (INSUFFICIENT_BALANCE, ...)",
  },
  "429": { name: "RateLimited", description: "RATE_LIMITED; Retry-After says when to retry" },
  "500": { name: "Internal", description: "INTERNAL" },
  "503": { name: "Unavailable", description: "UNAVAILABLE: a service is down, try again later" },
};

/** Options for {@link buildOpenApi}. */
export interface OpenApiOptions {
  title?: string;
  version?: string;
  /** More operations, added as they are (the gateway's /health and /ready always are). */
  extraPaths?: Record<string, Record<string, Json>>;
}

/**
 * The OpenAPI 3.1 document of the REST routes, from the same descriptors the transcoder binds with: path and
 * query parameters, request bodies (unknown fields refused: additionalProperties false), responses with
 * snake_case properties, enums as their lower-case words, money as decimal strings (a JSON number accepted on
 * input), bearer and API-key security per route, and docs/api.md's error body for every failure.
 */
export function buildOpenApi(routes: readonly Route[], opts: OpenApiOptions = {}): Json {
  const schemas: Record<string, Json> = {};
  const schemaRef = (desc: DescMessage, dir: Direction): Json => {
    const known = wellKnown[desc.typeName];
    if (known !== undefined) return known;
    const name = dir === "input" ? `${desc.typeName}Input` : desc.typeName;
    if (schemas[name] === undefined) {
      schemas[name] = {}; // placeholder first: recursive messages refer to themselves
      schemas[name] = messageSchema(desc, dir, schemaRef);
    }
    return { $ref: `#/components/schemas/${name}` };
  };

  const paths: Record<string, Record<string, Json>> = {};
  const operationIds = new Set<string>();
  for (const route of routes) {
    const path = route.template.openApiPath;
    let operationId = `${route.method.parent.name}_${route.method.name}`;
    for (let n = 2; operationIds.has(operationId); n++)
      operationId = `${route.method.parent.name}_${route.method.name}_${n}`;
    operationIds.add(operationId);
    const op: Json = {
      operationId,
      tags: [route.backend.name],
      summary: `${route.method.parent.typeName}.${route.method.name}`,
      parameters: parameters(route, schemaRef),
      responses: responses(route, schemaRef),
    };
    if (route.public) op.security = [];
    const body = requestBody(route, schemaRef);
    if (body !== undefined) op.requestBody = body;
    paths[path] ??= {};
    paths[path][route.verb.toLowerCase()] = op;
  }
  for (const [path, item] of Object.entries({ ...ownPaths, ...opts.extraPaths }))
    paths[path] = { ...paths[path], ...item };

  return {
    openapi: "3.1.0",
    info: {
      title: opts.title ?? "Fintech platform API",
      version: opts.version ?? "1",
      description:
        "The public REST API. JSON bodies in snake_case; money as decimal strings (a JSON number is accepted in requests); enum values are lower-case words. Every response carries X-Request-Id and the RateLimit headers.",
    },
    servers: [{ url: "/" }],
    security: [{ bearerAuth: [] }, { apiKeyAuth: [] }],
    paths,
    components: {
      schemas: { ...schemas, Error: errorSchema },
      responses: Object.fromEntries(
        Object.values(errorResponses).map(({ name, description }) => [
          name,
          {
            description,
            headers: commonHeaderRefs(),
            content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
          },
        ]),
      ),
      headers: {
        "X-Request-Id": {
          description: "The request's id (the client's own when it sent a valid one).",
          schema: { type: "string" },
        },
        RateLimit: {
          description: 'Requests left and seconds until the quota is back: "default";r=199;t=1',
          schema: { type: "string" },
        },
        "RateLimit-Policy": { description: 'The quota: "default";q=200;w=2', schema: { type: "string" } },
      },
      securitySchemes: {
        bearerAuth: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description: "An access token from POST /api/v1/auth/login.",
        },
        apiKeyAuth: {
          type: "apiKey",
          in: "header",
          name: "X-API-Key",
          description: "A key from POST /api/v1/api-keys.",
        },
      },
    },
  };
}

const errorSchema: Json = {
  type: "object",
  required: ["error", "message", "details", "request_id", "timestamp", "path"],
  properties: {
    error: { type: "string", examples: ["INSUFFICIENT_BALANCE"] },
    message: { type: "string" },
    details: { type: "object", additionalProperties: { type: "string" } },
    request_id: { type: "string" },
    timestamp: { type: "string", format: "date-time" },
    path: { type: "string", examples: ["/api/v1/wallets"] },
  },
};

const commonHeaderRefs = (): Json => ({
  "X-Request-Id": { $ref: "#/components/headers/X-Request-Id" },
  RateLimit: { $ref: "#/components/headers/RateLimit" },
  "RateLimit-Policy": { $ref: "#/components/headers/RateLimit-Policy" },
});

type SchemaRef = (desc: DescMessage, dir: Direction) => Json;

function messageSchema(
  desc: DescMessage,
  dir: Direction,
  ref: SchemaRef,
  exclude?: ReadonlySet<string>,
): Json {
  const properties: Record<string, Json> = {};
  for (const field of desc.fields) {
    if (exclude?.has(field.name)) continue;
    properties[field.name] = fieldSchema(field, dir, ref);
  }
  const schema: Json = { type: "object", properties };
  if (dir === "input") schema.additionalProperties = false;
  return schema;
}

function fieldSchema(field: DescField, dir: Direction, ref: SchemaRef): Json {
  const leaf = leafOf(field);
  let item: Json;
  switch (leaf.kind) {
    case "enum":
      item = { type: "string", enum: enumNames(leaf.desc).names };
      break;
    case "message":
      item = ref(leaf.desc, dir);
      break;
    case "scalar":
      item = scalarSchema(leaf.scalar, dir, field.fieldKind === "scalar" && isMoneyField(field));
  }
  if (field.fieldKind === "list") return { type: "array", items: item };
  if (field.fieldKind === "map") return { type: "object", additionalProperties: item };
  return item;
}

function scalarSchema(scalar: ScalarType, dir: Direction, money: boolean): Json {
  if (money) {
    return dir === "input"
      ? {
          type: ["string", "number"],
          pattern: DECIMAL_PATTERN,
          examples: ["45.50"],
          description: "Decimal; a JSON number is accepted too.",
        }
      : { type: "string", pattern: DECIMAL_PATTERN, examples: ["45.50"] };
  }
  switch (scalar) {
    case ScalarType.STRING:
      return { type: "string" };
    case ScalarType.BOOL:
      return { type: "boolean" };
    case ScalarType.BYTES:
      return { type: "string", contentEncoding: "base64" };
    case ScalarType.DOUBLE:
      return { type: "number", format: "double" };
    case ScalarType.FLOAT:
      return { type: "number", format: "float" };
    default:
      if (INT32.has(scalar)) return { type: "integer", format: "int32" };
      if (UINT32.has(scalar)) return { type: "integer", format: "int32", minimum: 0 };
      // 64-bit integers are counts: numbers in responses (see writeMessage); requests may send a string too.
      return dir === "input"
        ? { type: ["string", "integer"], format: "int64" }
        : { type: "integer", format: "int64" };
  }
}

function parameters(route: Route, ref: SchemaRef): Json[] {
  const desc = route.method.input;
  const out: Json[] = route.template.fields.map((name) => ({
    name,
    in: "path",
    required: true,
    schema: leafSchema(fieldAt(desc, name), ref),
  }));
  if (route.body !== "*") {
    const taken = new Set(route.template.fields.map((f) => f.split(".")[0] ?? f));
    if (route.body !== undefined) taken.add(route.body.name);
    for (const [name, field] of queryFields(desc, taken, "", new Set())) {
      const schema = leafSchema(field, ref);
      out.push({
        name,
        in: "query",
        required: false,
        schema: field.fieldKind === "list" ? { type: "array", items: schema } : schema,
      });
    }
  }
  if (route.verb === "POST") {
    out.push({
      name: "Idempotency-Key",
      in: "header",
      required: false,
      description:
        "Makes a money-moving POST safe to retry: the first response is replayed for the same key and body.",
      schema: { type: "string", minLength: 1, maxLength: 255 },
    });
  }
  return out;
}

// The schema of one value of a path or query field (an element for lists).
function leafSchema(field: DescField | undefined, ref: SchemaRef): Json {
  if (field === undefined) return { type: "string" };
  const leaf = leafOf(field);
  if (leaf.kind === "enum") return { type: "string", enum: enumNames(leaf.desc).names };
  if (leaf.kind === "message") return ref(leaf.desc, "input");
  return scalarSchema(leaf.scalar, "input", field.fieldKind === "scalar" && isMoneyField(field));
}

function fieldAt(desc: DescMessage, path: string): DescField | undefined {
  let current: DescMessage | undefined = desc;
  let field: DescField | undefined;
  for (const part of path.split(".")) {
    field = current?.fields.find((f) => f.name === part);
    current = field?.fieldKind === "message" ? field.message : undefined;
  }
  return field;
}

// Every field a query parameter can set, with dotted names through nested messages.
function queryFields(
  desc: DescMessage,
  taken: ReadonlySet<string>,
  prefix: string,
  seen: Set<DescMessage>,
): [string, DescField][] {
  const out: [string, DescField][] = [];
  seen.add(desc);
  for (const field of desc.fields) {
    if (prefix === "" && taken.has(field.name)) continue;
    const name = `${prefix}${field.name}`;
    if (field.fieldKind === "map") continue;
    const leaf = leafOf(field);
    if (leaf.kind === "message" && !isWellKnown(leaf.desc)) {
      if (field.fieldKind === "message" && !seen.has(leaf.desc))
        out.push(...queryFields(leaf.desc, taken, `${name}.`, seen));
      continue;
    }
    out.push([name, field]);
  }
  seen.delete(desc);
  return out;
}

function requestBody(route: Route, ref: SchemaRef): Json | undefined {
  if (route.body === undefined) return undefined;
  const taken = new Set(route.template.fields.map((f) => f.split(".")[0] ?? f));
  const schema =
    route.body === "*"
      ? messageSchema(route.method.input, "input", ref, taken)
      : fieldSchema(route.body, "input", ref);
  // A route that takes only some words of an enum documents only those (see RoutePolicy.enumWords).
  const properties = schema.properties as Record<string, Json> | undefined;
  for (const [field, words] of Object.entries(route.enumWords)) {
    if (route.body === "*" && properties?.[field] !== undefined) {
      properties[field] = { type: "string", enum: [...words] };
    }
  }
  return { required: route.body !== "*", content: { "application/json": { schema } } };
}

function responses(route: Route, ref: SchemaRef): Json {
  const out: Json = {};
  const success = String(route.status);
  if (route.status === 204) {
    out[success] = { description: "Done; no body.", headers: commonHeaderRefs() };
  } else {
    const schema =
      route.responseBody === undefined
        ? ref(route.method.output, "output")
        : fieldSchema(route.responseBody, "output", ref);
    out[success] = {
      description: "Success.",
      headers: commonHeaderRefs(),
      content: { "application/json": { schema } },
    };
  }
  for (const [status, { name }] of Object.entries(errorResponses)) {
    if (route.public && status === "403") continue;
    if (status === "413" && route.body === undefined) continue;
    out[status] = { $ref: `#/components/responses/${name}` };
  }
  return out;
}

// The gateway's own operations, in the OpenAPI document beside the derived ones.
const ownPaths: Record<string, Record<string, Json>> = {
  "/health": {
    get: {
      operationId: "health",
      tags: ["operations"],
      summary: "Liveness: the gateway process is up.",
      security: [],
      responses: {
        "200": {
          description: "Up.",
          content: {
            "application/json": { schema: { type: "object", properties: { status: { const: "ok" } } } },
          },
        },
      },
    },
  },
  "/ready": {
    get: {
      operationId: "ready",
      tags: ["operations"],
      summary: "Readiness: Redis and every backend's gRPC health (which covers their Postgres and NATS).",
      security: [],
      responses: {
        "200": { description: "Ready.", content: { "application/json": { schema: readySchema() } } },
        "503": {
          description: "Not ready; checks say which dependency.",
          content: { "application/json": { schema: readySchema() } },
        },
      },
    },
  },
};

function readySchema() {
  return {
    type: "object",
    properties: {
      status: { type: "string", enum: ["ready", "not_ready"] },
      checks: { type: "object", additionalProperties: { type: "string" } },
    },
  };
}
