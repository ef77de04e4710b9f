import type { DescService, Message, MessageShape } from "@bufbuild/protobuf";
import type { ConnectError, Interceptor } from "@connectrpc/connect";
import { Code } from "@connectrpc/connect";
import { BadRequestSchema } from "@fintech/proto/google/rpc/error_details_pb.js";
import type { ErrorReason } from "./error-reasons.js";
import { connectError } from "./errors.js";
import { textIssues } from "./text-issues.js";
import type { ValidationIssue } from "./validation-issue.js";

/** Per method (by its generated local name, e.g. `getRate`), a check of the request returning what is wrong. */
export type ValidationRules<S extends DescService> = {
  readonly [K in keyof S["method"]]?: (
    req: MessageShape<S["method"][K]["input"]>,
  ) => readonly ValidationIssue[];
};

/** The reason in the ErrorInfo of every validation failure. */
export const VALIDATION_ERROR = "VALIDATION_ERROR" satisfies ErrorReason;

/**
 * InvalidArgument with ErrorInfo reason VALIDATION_ERROR and metadata `{ field, ...metadata }` of the first issue,
 * a google.rpc.BadRequest listing every issue, and every issue in the message.
 */
export function validationError(issues: readonly ValidationIssue[]): ConnectError {
  const [first] = issues;
  const message = `invalid request: ${issues.map((i) => `${i.field}: ${i.message}`).join("; ")}`;
  const err = connectError(Code.InvalidArgument, VALIDATION_ERROR, message, {
    ...first?.metadata,
    field: first?.field ?? "",
  });
  err.details.push({
    desc: BadRequestSchema,
    value: { fieldViolations: issues.map((i) => ({ field: i.field, description: i.message })) },
  });
  return err;
}

type Rule = (req: Message) => readonly ValidationIssue[];

/**
 * An interceptor checking each request message of `service` before the handler sees it, failing with
 * {@link validationError} on the first message with issues. Put it in createServer's `interceptors`.
 * Every method's request is first checked for text no handler should see (control characters other than
 * tab and line breaks, lone surrogates; see textIssues), then by its rule when it has one. Calls to other
 * services pass untouched.
 */
export function defineValidation<S extends DescService>(service: S, rules: ValidationRules<S>): Interceptor {
  // Rules are typed per method for the author; at run time the method is only known by name.
  const byName = rules as Readonly<Record<string, Rule | undefined>>;
  const checkOf = new Map<string, Rule>();
  for (const method of service.methods) {
    const rule = byName[method.localName];
    const input = method.input;
    checkOf.set(method.name, (message) => {
      const issues = textIssues(input, message);
      return issues.length > 0 || rule === undefined ? issues : rule(message);
    });
  }
  return (next) => async (req) => {
    if (req.service.typeName !== service.typeName) {
      return next(req);
    }
    const rule = checkOf.get(req.method.name);
    if (rule === undefined) {
      return next(req);
    }
    if (!req.stream) {
      check(rule, req.message);
      return next(req);
    }
    return next({ ...req, message: checkEach(rule, req.message) });
  };
}

function check(rule: Rule, message: Message): void {
  const issues = rule(message);
  if (issues.length > 0) {
    throw validationError(issues);
  }
}

async function* checkEach<T extends Message>(rule: Rule, messages: AsyncIterable<T>): AsyncIterable<T> {
  for await (const message of messages) {
    check(rule, message);
    yield message;
  }
}
