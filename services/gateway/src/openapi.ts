import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { ScalarType } from "@bufbuild/protobuf";
import { FeatureSet_FieldPresence } from "@bufbuild/protobuf/wkt";
import { protoComments } from "@fintech/proto/comments.js";
import { fieldOptions } from "./api-options.js";
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

/** A response header of the document's components, by name. */
const header = (name: string): Json => ({ $ref: `#/components/headers/${name}` });

/** docs/api.md's error table, as the document's error responses (each with the error body). */
const errorResponses: Record<string, { name: string; description: string; headers?: string[] }> = {
  "400": {
    name: "BadRequest",
    description:
      "VALIDATION_ERROR: a bad field, query parameter, path segment, header or body (malformed JSON included); `details.field` names it.",
  },
  "401": {
    name: "Unauthenticated",
    description:
      "UNAUTHENTICATED: no valid credential (missing, malformed, expired or revoked), or a refused login or refresh. `WWW-Authenticate` says how to authenticate.",
    headers: ["WWW-Authenticate"],
  },
  "403": { name: "Forbidden", description: "FORBIDDEN: the caller's role does not allow the route." },
  "404": {
    name: "NotFound",
    description:
      "NOT_FOUND: no such object, or another user's (QUOTE_NOT_FOUND and REVIEW_NOT_FOUND for fx quotes and fraud reviews).",
  },
  "405": {
    name: "MethodNotAllowed",
    description: "METHOD_NOT_ALLOWED: the path exists, but not with this method; `Allow` lists its methods.",
    headers: ["Allow"],
  },
  "409": {
    name: "Conflict",
    description:
      "CONFLICT (a state that forbids the change), IDEMPOTENCY_KEY_IN_USE (the key's first request is still running), EMAIL_TAKEN or WALLET_EXISTS.",
  },
  "413": { name: "PayloadTooLarge", description: "PAYLOAD_TOO_LARGE: the body is over 1 MiB." },
  "415": {
    name: "UnsupportedMediaType",
    description:
      "UNSUPPORTED_MEDIA_TYPE: the body is not JSON (nor CSV or multipart where the route takes them).",
  },
  "422": {
    name: "Unprocessable",
    description:
      "A business rule refused the request: INSUFFICIENT_BALANCE, LIMIT_EXCEEDED, USER_NOT_ACTIVE, CURRENCY_NOT_SUPPORTED, REFUND_NOT_ALLOWED, TRANSACTION_DECLINED, IDEMPOTENCY_KEY_REUSED, RATE_NOT_AVAILABLE, AMOUNT_TOO_SMALL, QUOTE_EXPIRED, QUOTE_ALREADY_REDEEMED, REVIEW_ALREADY_DECIDED or FAILED_PRECONDITION.",
  },
  "429": {
    name: "RateLimited",
    description:
      "RATE_LIMITED: over the rate limit (or identity's login backoff); `Retry-After` says when to try again.",
    headers: ["Retry-After"],
  },
  "500": {
    name: "Internal",
    description: "INTERNAL: a bug; the details are in the logs under the request id.",
  },
  "503": {
    name: "Unavailable",
    description:
      "UNAVAILABLE: a backend, the database or NATS is away; retry after `Retry-After` seconds, with the same Idempotency-Key.",
    headers: ["Retry-After"],
  },
  "504": {
    name: "Timeout",
    description:
      "TIMEOUT: a backend did not answer in time; the outcome is unknown, so retry with the same Idempotency-Key.",
  },
};

/** Options for {@link buildOpenApi}. */
export interface OpenApiOptions {
  title?: string;
  version?: string;
  /** More operations, added as they are (the gateway's /health and /ready always are). */
  extraPaths?: Record<string, Record<string, Json>>;
}

/**
 * The OpenAPI 3.1 document of the REST routes, from the same descriptors the transcoder binds with and their
 * fintech.api.v1 options: path and query parameters (page sizes bounded), request bodies (unknown fields refused:
 * additionalProperties false; required fields listed; a valid example), responses with snake_case properties
 * (every field the API always sends required), enums as their lower-case words, money as decimal strings (a JSON
 * number accepted on input), summaries and descriptions from the proto comments, bearer and API-key security per
 * route (admin routes marked with `x-admin-only`), Idempotency-Key where a route honours it, and docs/api.md's
 * error body for every failure.
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
  const tags = new Map<string, string>();
  for (const route of routes) {
    const path = route.template.openApiPath;
    let operationId = `${route.method.parent.name}_${route.method.name}`;
    for (let n = 2; operationIds.has(operationId); n++)
      operationId = `${route.method.parent.name}_${route.method.name}_${n}`;
    operationIds.add(operationId);
    tags.set(route.backend.name, tagDescription(route.method.parent.typeName));
    const op: Json = {
      operationId,
      tags: [route.backend.name],
      ...describe(route),
      parameters: parameters(route, schemaRef),
      responses: responses(route, schemaRef),
    };
    if (route.public) op.security = [];
    if (route.admin) {
      op.security = [{ bearerAuth: [] }, { apiKeyAuth: [] }];
      op["x-admin-only"] = true;
    }
    const body = requestBody(route, schemaRef);
    if (body !== undefined) op.requestBody = body;
    paths[path] ??= {};
    paths[path][route.verb.toLowerCase()] = op;
  }
  const own = { ...ownPaths, ...opts.extraPaths };
  for (const [path, item] of Object.entries(own)) paths[path] = { ...paths[path], ...item };
  if (Object.keys(ownPaths).some((p) => own[p] !== undefined)) {
    tags.set("operations", "The gateway's own probes: liveness and readiness.");
  }
  const used = new Set(
    Object.values(paths).flatMap((item) =>
      Object.values(item).flatMap((op) => Object.keys((op.responses as Json | undefined) ?? {})),
    ),
  );

  return {
    openapi: "3.1.0",
    info: {
      title: opts.title ?? "Fintech platform API",
      version: opts.version ?? "1",
      description:
        "The public REST API of the wallet and payments platform. JSON bodies in snake_case; money as decimal strings in the currency's major units (a JSON number is accepted in requests), left out where it does not apply; enum values are lower-case words; timestamps RFC 3339 in UTC. Every response carries X-Request-Id and the RateLimit headers; every failure has the same error body (`Error`).",
      license: { name: "Apache-2.0", identifier: "Apache-2.0" },
      contact: { name: "Fintech platform maintainers" },
    },
    servers: [{ url: "/", description: "The gateway that serves this document." }],
    security: [{ bearerAuth: [] }, { apiKeyAuth: [] }],
    tags: [...tags]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, description]) => ({ name, description })),
    paths,
    components: {
      schemas: { ...schemas, Error: errorSchema },
      responses: Object.fromEntries(
        Object.entries(errorResponses)
          .filter(([status]) => used.has(status))
          .map(([status, { name, description, headers }]) => [
            name,
            errorResponse(status, description, headers),
          ]),
      ),
      headers: responseHeaders,
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
  description: "The body of every failure (docs/api.md, Errors).",
  required: ["error", "message", "details", "request_id", "timestamp", "path"],
  properties: {
    error: {
      type: "string",
      description: "A stable name (the catalog in proto/fintech/api/v1/errors.proto).",
      examples: ["INSUFFICIENT_BALANCE"],
    },
    message: { type: "string", description: "For people; may change." },
    details: {
      type: "object",
      description: "Facts about the failure, as strings (a VALIDATION_ERROR names the bad `field`).",
      additionalProperties: { type: "string" },
    },
    request_id: { type: "string", description: "The response's X-Request-Id." },
    timestamp: { type: "string", format: "date-time" },
    path: { type: "string", examples: ["/api/v1/wallets"] },
  },
  additionalProperties: false,
};

const responseHeaders: Record<string, Json> = {
  "X-Request-Id": {
    description: "The request's id (the client's own when it sent a valid one).",
    schema: { type: "string" },
  },
  RateLimit: {
    description: 'Requests left and seconds until the quota is back: "default";r=199;t=1',
    schema: { type: "string" },
  },
  "RateLimit-Policy": { description: 'The quota: "default";q=200;w=2', schema: { type: "string" } },
  "Retry-After": {
    description: "Seconds to wait before trying again.",
    required: true,
    schema: { type: "string", pattern: "^\\d+$", examples: ["1"] },
  },
  "WWW-Authenticate": {
    required: true,
    description: 'The challenge: Bearer realm="api", with error="invalid_token" when a token was sent.',
    schema: { type: "string", examples: ['Bearer realm="api"'] },
  },
  Allow: {
    description: "The methods the path has.",
    required: true,
    schema: { type: "string", examples: ["GET, POST"] },
  },
  "Idempotent-Replayed": {
    description: "true when this is the first answer to the same Idempotency-Key, replayed.",
    schema: { type: "string", enum: ["true"] },
  },
};

const commonHeaderRefs = (): Json => ({
  "X-Request-Id": header("X-Request-Id"),
  RateLimit: header("RateLimit"),
  "RateLimit-Policy": header("RateLimit-Policy"),
});

function errorResponse(status: string, description: string, extra: readonly string[] = []): Json {
  const headers = commonHeaderRefs();
  for (const name of extra) headers[name] = header(name);
  return {
    description,
    headers,
    content: {
      "application/json": {
        schema: { $ref: "#/components/schemas/Error" },
        example: {
          error: status === "422" ? "INSUFFICIENT_BALANCE" : (errorNames[status] ?? "VALIDATION_ERROR"),
          message: "what went wrong, for people",
          details: {},
          request_id: "7f3c2a9e-1d4b-4f6a-8c2e-5b9d0a7e3f11",
          timestamp: "2026-03-01T08:00:00.000Z",
          path: "/api/v1/wallets",
        },
      },
    },
  };
}

const errorNames: Record<string, string> = {
  "400": "VALIDATION_ERROR",
  "401": "UNAUTHENTICATED",
  "403": "FORBIDDEN",
  "404": "NOT_FOUND",
  "405": "METHOD_NOT_ALLOWED",
  "409": "CONFLICT",
  "413": "PAYLOAD_TOO_LARGE",
  "415": "UNSUPPORTED_MEDIA_TYPE",
  "429": "RATE_LIMITED",
  "500": "INTERNAL",
  "503": "UNAVAILABLE",
  "504": "TIMEOUT",
};

/** A comment as Markdown: lines of a paragraph joined (the protos wrap at 110 columns). */
const markdown = (comment: string): string =>
  comment
    .split(/\n{2,}/)
    .map((p) => p.replace(/\n/g, " "))
    .join("\n\n");

/** "Admin: " or "Admin (or a service caller): " opening an RPC's comment. */
const ADMIN_LEAD = /^Admin(?: \([^)]*\))?: /;

// The first sentence of a comment, without an "Admin:" lead (admin routes are marked on their own).
function firstSentence(comment: string): string {
  const paragraph = (comment.split(/\n{2,}/)[0] ?? "").replace(/\n/g, " ");
  const unled = paragraph.replace(ADMIN_LEAD, "");
  const end = unled.search(/[.;](\s|$)/);
  const sentence = end < 0 ? unled : unled.slice(0, end);
  return sentence.charAt(0).toUpperCase() + sentence.slice(1);
}

function tagDescription(serviceName: string): string {
  const comment = protoComments[serviceName];
  return comment === undefined ? serviceName : markdown(comment.split(/\n{2,}/)[0] ?? comment);
}

// Summary and description of a route, from its RPC's comment, with what the options say.
function describe(route: Route): Json {
  const name = `${route.method.parent.typeName}.${route.method.name}`;
  const comment = protoComments[name] ?? "";
  const lines: string[] = [];
  if (route.admin)
    lines.push("**Admin only**: needs a user with the admin role (403 FORBIDDEN for anyone else).");
  if (route.public) lines.push("**Public**: no credential needed (one that is sent is still verified).");
  // The first line says a route is for admins; the comment's own "Admin:" lead would say it twice.
  if (comment !== "") lines.push(markdown(route.admin ? comment.replace(ADMIN_LEAD, "") : comment));
  if (route.idempotent) {
    lines.push(
      "Honours `Idempotency-Key`: the same key with the same request answers the first answer again (with `Idempotent-Replayed: true`), with another request 422 IDEMPOTENCY_KEY_REUSED.",
    );
  }
  return {
    summary: comment === "" ? route.method.name.replace(/([a-z])([A-Z])/g, "$1 $2") : firstSentence(comment),
    description: lines.join("\n\n"),
  };
}

type SchemaRef = (desc: DescMessage, dir: Direction) => Json;

/**
 * Whether a response always has the field: implicit-presence scalars, lists and maps are always written
 * (writeMessage), except `omit_empty` ones; enums and messages only when the proto marks them required.
 */
function alwaysSent(field: DescField): boolean {
  const options = fieldOptions(field);
  switch (field.fieldKind) {
    case "list":
    case "map":
      return true;
    case "scalar":
      return !options.omitEmpty && field.presence === FeatureSet_FieldPresence.IMPLICIT;
    default:
      return options.required;
  }
}

function messageSchema(
  desc: DescMessage,
  dir: Direction,
  ref: SchemaRef,
  exclude?: ReadonlySet<string>,
): Json {
  const properties: Record<string, Json> = {};
  const required: string[] = [];
  for (const field of desc.fields) {
    if (exclude?.has(field.name)) continue;
    properties[field.name] = fieldSchema(field, dir, ref);
    if (dir === "output" ? alwaysSent(field) : fieldOptions(field).required) required.push(field.name);
  }
  const schema: Json = { type: "object", properties };
  const comment = protoComments[desc.typeName];
  if (comment !== undefined) schema.description = markdown(comment);
  if (required.length > 0) schema.required = required;
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
      item = bounded(
        scalarSchema(leaf.scalar, dir, field.fieldKind === "scalar" && isMoneyField(field)),
        field,
      );
  }
  let schema: Json = item;
  if (field.fieldKind === "list") {
    schema = { type: "array", items: item };
    if (dir === "input" && fieldOptions(field).required) schema.minItems = 1;
  } else if (field.fieldKind === "map") schema = { type: "object", additionalProperties: item };
  const comment = protoComments[`${field.parent.typeName}.${field.name}`];
  if (comment !== undefined) {
    const own = typeof schema.description === "string" ? ` ${schema.description}` : "";
    schema = { ...schema, description: `${markdown(comment)}${own}` };
  }
  return schema;
}

// The minimum and maximum a numeric field's options declare, and its example.
function bounded(schema: Json, field: DescField): Json {
  const options = fieldOptions(field);
  const out = { ...schema };
  if (options.minimum !== undefined) out.minimum = Number(options.minimum);
  if (options.maximum !== undefined) out.maximum = Number(options.maximum);
  if (options.example !== "") out.examples = [options.example];
  return out;
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
  const out: Json[] = route.template.fields.map((name) => {
    const field = fieldAt(desc, name);
    return withDescription({ name, in: "path", required: true, schema: leafSchema(field, ref) }, field);
  });
  if (route.body !== "*") {
    const taken = new Set(route.template.fields.map((f) => f.split(".")[0] ?? f));
    if (route.body !== undefined) taken.add(route.body.name);
    for (const [name, field] of queryFields(desc, taken, "", new Set())) {
      const schema = leafSchema(field, ref);
      out.push(
        withDescription(
          {
            name,
            in: "query",
            required: false,
            schema: field.fieldKind === "list" ? { type: "array", items: schema } : schema,
          },
          field,
        ),
      );
    }
  }
  if (route.idempotent) {
    out.push({
      name: "Idempotency-Key",
      in: "header",
      required: false,
      description:
        "Makes the request safe to retry: the same key with the same request answers the first answer again; 1-255 visible ASCII characters, kept at least 24 hours.",
      schema: { type: "string", minLength: 1, maxLength: 255, pattern: "^[\\x21-\\x7e]+$" },
      example: "3f1c9b7e-2a4d-4e8f-9b6a-0c5d7e2f1a3b",
    });
  }
  return out;
}

function withDescription(parameter: Json, field: DescField | undefined): Json {
  const comment = field === undefined ? undefined : protoComments[`${field.parent.typeName}.${field.name}`];
  return comment === undefined ? parameter : { ...parameter, description: markdown(comment) };
}

// The schema of one value of a path or query field (an element for lists).
function leafSchema(field: DescField | undefined, ref: SchemaRef): Json {
  if (field === undefined) return { type: "string" };
  const leaf = leafOf(field);
  if (leaf.kind === "enum") return { type: "string", enum: enumNames(leaf.desc).names };
  if (leaf.kind === "message") return ref(leaf.desc, "input");
  return bounded(
    scalarSchema(leaf.scalar, "input", field.fieldKind === "scalar" && isMoneyField(field)),
    field,
  );
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

const IMPORT_EXAMPLE = "timestamp,type,provider,amount\n2026-03-01T10:00:00Z,deposit,visa,10.00\n";

function requestBody(route: Route, ref: SchemaRef): Json | undefined {
  if (route.body === undefined) return undefined;
  if (route.body !== "*") {
    const schema = fieldSchema(route.body, "input", ref);
    const content: Json = { "application/json": { schema } };
    // A body that is one string field (an import's CSV) may also come as the text itself or as a file upload.
    if (route.body.fieldKind === "scalar" && route.body.scalar === ScalarType.STRING) {
      content["application/json"] = { schema, example: IMPORT_EXAMPLE };
      content["text/csv"] = { schema: { type: "string" }, example: IMPORT_EXAMPLE };
      content["multipart/form-data"] = {
        schema: {
          type: "object",
          description: "A form whose first file part is taken; its file name becomes file_name.",
          required: ["file"],
          properties: { file: { type: "string", contentMediaType: "text/csv" } },
        },
      };
    }
    return { required: true, content };
  }
  const taken = new Set(route.template.fields.map((f) => f.split(".")[0] ?? f));
  const schema = messageSchema(route.method.input, "input", ref, taken);
  // A route that takes only some words of an enum documents only those (see Route.enumWords).
  const properties = schema.properties as Record<string, Json>;
  for (const [field, words] of Object.entries(route.enumWords)) {
    if (properties[field] !== undefined) properties[field] = { type: "string", enum: [...words] };
  }
  // A body without its required fields is refused, so a body is required where it has any.
  return {
    required: Array.isArray(schema.required),
    content: { "application/json": { schema, example: exampleOf(route, taken) } },
  };
}

// A request the route accepts: its required fields and those with an example in the proto.
function exampleOf(route: Route, taken: ReadonlySet<string>): Json {
  const out: Json = {};
  for (const field of route.method.input.fields) {
    if (taken.has(field.name)) continue;
    const options = fieldOptions(field);
    if (!options.required && options.example === "") continue;
    const leaf = leafOf(field);
    // A list's example is one element of it.
    if (options.example !== "")
      out[field.name] = field.fieldKind === "list" ? [options.example] : options.example;
    else if (leaf.kind === "enum") {
      const words = route.enumWords[field.name] ?? enumNames(leaf.desc).names;
      out[field.name] = field.fieldKind === "list" ? words.slice(0, 1) : words[0];
    } else if (leaf.kind === "scalar" && isMoneyField(field)) out[field.name] = "45.50";
  }
  return out;
}

function responses(route: Route, ref: SchemaRef): Json {
  const out: Json = {};
  const success = String(route.status);
  const headers = commonHeaderRefs();
  if (route.idempotent) headers["Idempotent-Replayed"] = header("Idempotent-Replayed");
  if (route.status === 204) {
    out[success] = { description: "Done; no body.", headers };
  } else {
    const schema =
      route.responseBody === undefined
        ? ref(route.method.output, "output")
        : fieldSchema(route.responseBody, "output", ref);
    out[success] = {
      description: route.status === 202 ? "Accepted; it goes on in the background." : "Success.",
      headers,
      content: { "application/json": { schema } },
    };
  }
  const hasBody = route.body !== undefined;
  for (const [status, { name }] of Object.entries(errorResponses)) {
    if (route.public && status === "403") continue;
    if ((status === "413" || status === "415") && !hasBody) continue;
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
      summary: "Liveness: the gateway process is up",
      description: "Answers 200 while the process runs; never rate limited or authenticated.",
      security: [],
      responses: {
        "200": {
          description: "Up.",
          headers: { "X-Request-Id": header("X-Request-Id") },
          content: {
            "application/json": {
              schema: {
                type: "object",
                required: ["status"],
                properties: { status: { type: "string", const: "ok" } },
              },
            },
          },
        },
        "405": { $ref: "#/components/responses/MethodNotAllowed" },
      },
    },
  },
  "/ready": {
    get: {
      operationId: "ready",
      tags: ["operations"],
      summary: "Readiness: Redis and every backend's gRPC health",
      description:
        "200 when Redis answers and every backend's `grpc.health.v1` check is SERVING (each covers its own Postgres and NATS), else 503 with `Retry-After`; never rate limited or authenticated.",
      security: [],
      responses: {
        "200": {
          description: "Ready.",
          headers: { "X-Request-Id": header("X-Request-Id") },
          content: { "application/json": { schema: readySchema() } },
        },
        "405": { $ref: "#/components/responses/MethodNotAllowed" },
        "503": {
          description: "Not ready; checks say which dependency.",
          headers: { "X-Request-Id": header("X-Request-Id"), "Retry-After": header("Retry-After") },
          content: { "application/json": { schema: readySchema() } },
        },
      },
    },
  },
};

function readySchema(): Json {
  return {
    type: "object",
    required: ["status", "checks"],
    properties: {
      status: { type: "string", enum: ["ready", "not_ready"] },
      checks: { type: "object", additionalProperties: { type: "string" } },
    },
  };
}
