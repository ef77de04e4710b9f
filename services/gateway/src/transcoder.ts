import type {
  DescField,
  DescMessage,
  DescMethodUnary,
  JsonObject,
  JsonValue,
  Message,
} from "@bufbuild/protobuf";
import { getOption } from "@bufbuild/protobuf";
import { Access } from "@fintech/proto/fintech/api/v1/options_pb.js";
import { http } from "@fintech/proto/google/api/annotations_pb.js";
import type { HttpRule } from "@fintech/proto/google/api/http_pb.js";
import { fieldOptions, routeOptions } from "./api-options.js";
import type { Backend } from "./backends.js";
import { validationError } from "./errors.js";
import type { Input } from "./message-json.js";
import {
  isWellKnown,
  JsonNumber,
  leafOf,
  readField,
  readMessage,
  readText,
  toMessage,
  writeMessage,
} from "./message-json.js";
import type { PathTemplate } from "./path-template.js";
import { compareRank, parsePathTemplate } from "./path-template.js";

/** One REST route, derived from one google.api.http binding of one RPC. */
export interface Route {
  readonly backend: Backend;
  readonly method: DescMethodUnary;
  /** Upper-case HTTP method. */
  readonly verb: string;
  readonly template: PathTemplate;
  /** "GET /api/v1/fx/rates/{base}/{quote}": the route's name in logs and metrics. */
  readonly key: string;
  /** Where the request body goes: the whole request ("*"), one field, or nowhere (then query parameters bind). */
  readonly body: "*" | DescField | undefined;
  /** The response field sent as the body (`response_body`), or the whole response. */
  readonly responseBody: DescField | undefined;
  /** Success status; 204 sends no body. */
  readonly status: number;
  /** Callable without a credential (a credential that is sent is still verified). */
  readonly public: boolean;
  /** For users with the admin role only (the backend refuses anyone else with 403). */
  readonly admin: boolean;
  /** Honours the Idempotency-Key header. */
  readonly idempotent: boolean;
  /**
   * Body enum fields of which the route takes only some words (the RPC refuses the others): field name -> those
   * words, from `(fintech.api.v1.field).enum_words`. Any other word is refused naming only these, so an error
   * never offers what the route refuses.
   */
  readonly enumWords: Readonly<Record<string, readonly string[]>>;
}

/** An annotation the gateway cannot serve; start-up stops on it rather than serving half an API. */
export class RouteDerivationError extends Error {
  override readonly name = "RouteDerivationError";
}

/** The parts of a request the transcoder binds to fields. */
export interface RequestParts {
  pathValues: ReadonlyMap<string, string>;
  query: URLSearchParams;
  /** The parsed JSON body; undefined when there was none. */
  body: Input | undefined;
}

/**
 * Every REST route of the backends' RPCs, from their google.api.http annotations (and additional_bindings) and
 * their `(fintech.api.v1.route)` options, most specific first. RPCs without an annotation are internal and get
 * no route; streaming RPCs are skipped.
 */
export function deriveRoutes(backends: readonly Backend[]): Route[] {
  const routes: Route[] = [];
  const seen = new Map<string, string>();
  for (const backend of backends) {
    for (const m of backend.services.flatMap((s) => s.methods)) {
      if (m.methodKind !== "unary") continue;
      const method = m as DescMethodUnary;
      const rule = getOption(method, http);
      if (rule.pattern.case === undefined) continue;
      for (const binding of [rule, ...rule.additionalBindings]) {
        const route = routeOf(backend, method, binding);
        if (route === undefined) continue;
        const clash = seen.get(`${route.verb} ${route.template.openApiPath}`);
        if (clash !== undefined) {
          throw new RouteDerivationError(
            `${route.key} is bound by both ${clash} and ${method.parent.typeName}.${method.name}`,
          );
        }
        seen.set(`${route.verb} ${route.template.openApiPath}`, `${method.parent.typeName}.${method.name}`);
        routes.push(route);
      }
    }
  }
  return routes.sort((a, b) => compareRank(a.template.rank, b.template.rank));
}

function routeOf(backend: Backend, method: DescMethodUnary, rule: HttpRule): Route | undefined {
  const where = `${method.parent.typeName}.${method.name}`;
  let verb: string;
  let path: string;
  switch (rule.pattern.case) {
    case undefined:
      return undefined;
    case "custom":
      verb = rule.pattern.value.kind.toUpperCase();
      path = rule.pattern.value.path;
      break;
    default:
      verb = rule.pattern.case.toUpperCase();
      path = rule.pattern.value;
  }
  const template = parsePathTemplate(path);
  for (const f of template.fields) {
    const field = resolve(method.input, f.split("."));
    if (field === undefined || (field.fieldKind !== "scalar" && field.fieldKind !== "enum")) {
      throw new RouteDerivationError(
        `${where}: path variable {${f}} is not a scalar field of ${method.input.typeName}`,
      );
    }
  }
  let body: Route["body"];
  if (rule.body === "*") body = "*";
  else if (rule.body !== "") {
    body = method.input.fields.find((f) => f.name === rule.body);
    if (body === undefined) throw new RouteDerivationError(`${where}: body "${rule.body}" is not a field`);
  }
  let responseBody: DescField | undefined;
  if (rule.responseBody !== "") {
    responseBody = method.output.fields.find((f) => f.name === rule.responseBody);
    if (responseBody === undefined) {
      throw new RouteDerivationError(`${where}: response_body "${rule.responseBody}" is not a field`);
    }
  }
  const options = routeOptions(method);
  if (options.access === Access.UNSPECIFIED) {
    throw new RouteDerivationError(`${where}: the REST route declares no (fintech.api.v1.route).access`);
  }
  const empty = method.output.fields.length === 0;
  const status =
    options.successStatus !== 0
      ? options.successStatus
      : verb === "DELETE" || empty
        ? 204
        : verb === "POST"
          ? 201
          : 200;
  const enumWords: Record<string, readonly string[]> = {};
  for (const f of method.input.fields) {
    const words = fieldOptions(f).enumWords;
    if (words.length > 0) enumWords[f.name] = words;
  }
  return {
    backend,
    method,
    verb,
    template,
    key: `${verb} ${path}`,
    body,
    responseBody,
    status,
    public: options.access === Access.PUBLIC,
    admin: options.access === Access.ADMIN,
    idempotent: options.idempotent,
    enumWords,
  };
}

/** The field at a dotted path, through singular message fields. */
function resolve(desc: DescMessage, parts: readonly string[]): DescField | undefined {
  let current: DescMessage | undefined = desc;
  let field: DescField | undefined;
  for (const part of parts) {
    if (current === undefined) return undefined;
    field = current.fields.find((f) => f.name === part);
    if (field === undefined) return undefined;
    current = field.fieldKind === "message" && !isWellKnown(field.message) ? field.message : undefined;
  }
  return field;
}

/**
 * Builds the request message from the path variables, the query parameters (only when the body does not take
 * every field) and the body. Refuses, naming the field: unknown fields and parameters, a field given twice,
 * a body field that the path binds, badly typed values, and text with control characters or lone surrogates
 * wherever it comes from (body, query, path; see textProblem in libs/platform; the services check again,
 * since their ports are reachable inside a cluster).
 */
export function bindRequest(route: Route, parts: RequestParts): Message {
  const desc = route.method.input;
  const pathTop = new Set(route.template.fields.map((f) => f.split(".")[0] ?? f));
  let json: JsonObject = {};
  if (route.body === "*") {
    checkEnumWords(route, parts.body);
    json = parts.body === undefined ? {} : readMessage(desc, parts.body, "", pathTop);
  } else if (route.body !== undefined && parts.body !== undefined) {
    json[route.body.name] = readField(route.body, parts.body, route.body.name);
  }
  for (const [name, value] of parts.pathValues) setText(json, desc, name, value, "path");
  const bound = new Set(pathTop);
  if (route.body !== undefined && route.body !== "*") bound.add(route.body.name);
  for (const name of new Set(parts.query.keys())) {
    if (route.body === "*") throw validationError(name, `unknown query parameter "${name}"`);
    if (bound.has(name.split(".")[0] ?? name))
      throw validationError(name, `"${name}" cannot be a query parameter here`);
    for (const value of parts.query.getAll(name)) setText(json, desc, name, value, "query");
  }
  return toMessage(desc, json);
}

// Refuses a word the route does not take in a field of its enumWords, before the enum's own check
// (which would offer every word of the enum).
function checkEnumWords(route: Route, body: Input | undefined): void {
  if (body === undefined || body === null || typeof body !== "object" || Array.isArray(body)) return;
  if (body instanceof JsonNumber) return;
  for (const [field, words] of Object.entries(route.enumWords)) {
    const value = body[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== "string" || !words.includes(value.toLowerCase())) {
      const allowed = words.join(", ");
      throw validationError(field, `${field} must be one of: ${allowed}`, { allowed });
    }
  }
}

// Sets a query parameter or path variable at its dotted field path, creating the messages on the way.
function setText(
  json: JsonObject,
  desc: DescMessage,
  name: string,
  text: string,
  from: "path" | "query",
): void {
  const parts = name.split(".");
  let target = json;
  let current = desc;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] ?? "";
    const field = current.fields.find((f) => f.name === part);
    if (field === undefined)
      throw validationError(name, `unknown ${from === "query" ? "query parameter" : "field"} "${name}"`);
    const last = i === parts.length - 1;
    const leaf = leafOf(field);
    if (!last) {
      if (field.fieldKind !== "message" || isWellKnown(field.message)) {
        throw validationError(name, `unknown query parameter "${name}"`);
      }
      const next = target[part];
      const child: JsonObject =
        next !== undefined && next !== null && typeof next === "object" && !Array.isArray(next) ? next : {};
      target[part] = child;
      target = child;
      current = field.message;
      continue;
    }
    if (field.fieldKind === "map" || (leaf.kind === "message" && !isWellKnown(leaf.desc))) {
      throw validationError(name, `"${name}" cannot be given as a query parameter`);
    }
    const value: JsonValue = readText(field, text, name);
    if (field.fieldKind === "list") {
      const list = target[part];
      target[part] = Array.isArray(list) ? [...list, value] : [value];
    } else {
      if (target[part] !== undefined) throw validationError(name, `"${name}" is given more than once`);
      target[part] = value;
    }
  }
}

/** The response body of a successful call: undefined for 204, else the REST JSON of the response (or its response_body field). */
export function renderResponse(route: Route, message: Message): JsonValue | undefined {
  if (route.status === 204) return undefined;
  const json = writeMessage(route.method.output, message);
  if (route.responseBody === undefined) return json;
  const name = route.responseBody.name;
  return json[name] ?? (route.responseBody.fieldKind === "list" ? [] : {});
}
