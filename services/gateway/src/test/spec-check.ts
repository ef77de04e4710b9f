import { Ajv2020 } from "ajv/dist/2020.js";
import { backends } from "../backends.js";
import { buildOpenApi } from "../openapi.js";
import { deriveRoutes } from "../transcoder.js";

// Every answer a gateway test reads is checked against the OpenAPI document the gateway serves (built here from
// the same descriptors, every backend included): its status must be one the operation documents, its JSON body
// must match that response's schema, and its required headers must be there. A mismatch fails the test.

type Json = { [key: string]: unknown };
interface Operation {
  pattern: RegExp;
  /** Templated segments: fewer wins, as the router prefers /users/me over /users/{id}. */
  templated: number;
  path: string;
  method: string;
  responses: Json;
}

const doc = buildOpenApi(deriveRoutes(backends)) as Json & {
  paths: Record<string, Record<string, { responses: Json }>>;
  components: { responses: Record<string, Json>; headers: Record<string, Json> };
};

const ajv = new Ajv2020({ strict: false, allErrors: true });
for (const format of ["int32", "int64", "uint64", "double", "float"]) ajv.addFormat(format, true);
ajv.addFormat("date-time", (s: string) =>
  /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(s),
);
ajv.addSchema({ ...doc, $id: "openapi" });

const operations: Operation[] = Object.entries(doc.paths)
  .flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({
      path,
      method: method.toUpperCase(),
      pattern: new RegExp(`^${path.replace(/[.]/g, "\\.").replace(/\{[^}]+\}/g, "[^/]+")}$`),
      templated: (path.match(/\{/g) ?? []).length,
      responses: op.responses,
    })),
  )
  .sort((a, b) => a.templated - b.templated);

const pointer = (...parts: string[]) =>
  `openapi#/${parts.map((p) => p.replaceAll("~", "~0").replaceAll("/", "~1")).join("/")}`;

/** What is wrong with an answer to `method url`, per the document; undefined when nothing is. */
export function specProblem(method: string, url: string, status: number, headers: Headers, text: string) {
  const path = new URL(url, "http://gateway").pathname;
  const op = operations.find((o) => o.method === method.toUpperCase() && o.pattern.test(path));
  let schemaAt: string | undefined;
  let response: Json | undefined;
  if (op === undefined) {
    // No operation (an unknown route, another method, the documentation's own pages): only failures are
    // documented, by the error body.
    if (status < 400) return undefined;
    schemaAt = pointer("components", "schemas", "Error");
  } else {
    const declared = op.responses[String(status)] as Json | undefined;
    if (declared === undefined) {
      return `${op.method} ${op.path} answered ${status}, which the document does not list (${Object.keys(op.responses).join(", ")})`;
    }
    const ref = typeof declared.$ref === "string" ? declared.$ref.split("/").pop() : undefined;
    response = ref === undefined ? declared : doc.components.responses[ref];
    const content = response?.content as Record<string, unknown> | undefined;
    if (content?.["application/json"] !== undefined) {
      schemaAt =
        ref === undefined
          ? pointer(
              "paths",
              op.path,
              op.method.toLowerCase(),
              "responses",
              String(status),
              "content",
              "application/json",
              "schema",
            )
          : pointer("components", "responses", ref, "content", "application/json", "schema");
    } else if (text !== "")
      return `${op.method} ${op.path} ${status} has a body the document does not describe`;
  }
  for (const [name, h] of Object.entries((response?.headers as Record<string, Json> | undefined) ?? {})) {
    const refName = typeof h.$ref === "string" ? h.$ref.split("/").pop() : undefined;
    const resolved = refName === undefined ? h : doc.components.headers[refName];
    if (resolved?.required === true && !headers.has(name))
      return `${method} ${path} ${status} lacks the ${name} header`;
  }
  if (schemaAt === undefined) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return `${method} ${path} ${status} is not JSON: ${text.slice(0, 200)}`;
  }
  const validate = ajv.getSchema(schemaAt);
  if (validate === undefined) return `no schema at ${schemaAt}`;
  if (validate(body)) return undefined;
  const errors = (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? ""}`).join("; ");
  return `${method} ${path} ${status} does not match the document: ${errors}\n${text.slice(0, 1000)}`;
}

/** Throws when an answer does not match the document (see {@link specProblem}); the response stays readable. */
export async function checkAgainstSpec(method: string, url: string, res: Response): Promise<void> {
  const problem = specProblem(method, url, res.status, res.headers, await res.clone().text());
  if (problem !== undefined) throw new Error(problem);
}
