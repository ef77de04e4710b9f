import { z } from "zod";
import { splitServiceUrl } from "./service-urls.js";

/** One variable that failed validation. */
export interface ConfigIssue {
  variable: string;
  message: string;
}

/** Start-up configuration is invalid; `message` has one line per bad variable. Check `name`, not instanceof. */
export class ConfigError extends Error {
  override name = "ConfigError" as const;
  readonly issues: readonly ConfigIssue[];

  constructor(message: string, issues: readonly ConfigIssue[], options?: ErrorOptions) {
    super(message, options);
    this.issues = issues;
  }
}

// Values of these variables never appear in an error message, however wrong they are.
const sensitive = /SECRET|PASSWORD|TOKEN|KEY/i;

/**
 * Parses environment variables with a zod object schema (use the `env*` helpers for coercion and defaults).
 * Empty strings count as unset. Throws {@link ConfigError} listing every bad variable, one per line:
 * `  PORT: expected a port number 1-65535, got "abc"`; values of variables named like SECRET, PASSWORD,
 * TOKEN or KEY are shown as <redacted>, and so is the user-info of a URL (`postgres://<redacted>@db`).
 * @param env default: process.env
 */
export function parseConfig<S extends z.ZodObject>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) {
    return result.data;
  }
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const issue of result.error.issues) {
    const variable = issue.path.length > 0 ? issue.path.map(String).join(".") : "(configuration)";
    if (seen.has(variable)) {
      continue;
    }
    seen.add(variable);
    const raw = issue.path.length === 1 ? env[String(issue.path[0])] : undefined;
    issues.push({ variable, message: describe(variable, issue.message, raw) });
  }
  const lines = issues.map((i) => `  ${i.variable}: ${i.message}`);
  throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`, issues, { cause: result.error });
}

// A URL's user-info (postgres://user:password@host) can hold a password whatever the variable is called.
const userInfo = /^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i;

function describe(variable: string, message: string, raw: string | undefined): string {
  if (raw === undefined || raw === "") {
    return `${message}, not set`;
  }
  if (sensitive.test(variable)) return `${message}, got <redacted>`;
  return `${message}, got ${JSON.stringify(raw.replace(userInfo, "$1<redacted>@"))}`;
}

/** A variable's raw value with "" treated as unset. */
const raw = z
  .string()
  .optional()
  .transform((v) => (v === "" ? undefined : v));

/**
 * Builds an env helper: `parse` turns a present value into T or returns undefined when it is invalid (with
 * `expected` as the message); a missing value takes `fallback`, or is an error when there is none.
 */
function envValue<T>(expected: string, parse: (value: string) => T | undefined, fallback: T | undefined) {
  return raw.transform((value, ctx): T => {
    const parsed = value === undefined ? fallback : parse(value);
    if (parsed === undefined) {
      ctx.issues.push({ code: "custom", message: expected, input: value });
      return z.NEVER;
    }
    return parsed;
  });
}

function parseInteger(value: string): number | undefined {
  return /^[+-]?\d+$/.test(value.trim()) ? Number(value) : undefined;
}

/** A TCP port 1-65535. Without a default the variable is required. */
export function envPort(defaultPort?: number) {
  return envValue(
    "expected a port number 1-65535",
    (value) => {
      const n = parseInteger(value);
      return n !== undefined && n >= 1 && n <= 65_535 ? n : undefined;
    },
    defaultPort,
  );
}

/** An absolute URL (kept as the string given). Without a default the variable is required. */
export function envUrl(defaultUrl?: string) {
  return envValue(
    "expected an absolute URL",
    (value) => (URL.canParse(value) ? value : undefined),
    defaultUrl,
  );
}

/**
 * Where another service is: one absolute http(s) URL, or several separated by commas (its replicas, where no one
 * name resolves to them all); kept as the string given. Without a default the variable is required.
 */
export function envServiceUrl(defaultUrl?: string) {
  return envValue(
    "expected an absolute URL, or several separated by commas",
    (value) => (splitServiceUrl(value) === undefined ? undefined : value),
    defaultUrl,
  );
}

/** An integer within [min, max] (defaults: unbounded safe integers). Without a default the variable is required. */
export function envInt(defaultValue?: number, range: { min?: number; max?: number } = {}) {
  const min = range.min ?? Number.MIN_SAFE_INTEGER;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  const expected =
    range.min === undefined && range.max === undefined
      ? "expected an integer"
      : `expected an integer from ${range.min ?? "-∞"} to ${range.max ?? "∞"}`;
  return envValue(
    expected,
    (value) => {
      const n = parseInteger(value);
      return n !== undefined && Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
    },
    defaultValue,
  );
}

const truthy = new Set(["true", "1", "yes", "on"]);
const falsy = new Set(["false", "0", "no", "off"]);

/** true/false, 1/0, yes/no, on/off (any case). Without a default the variable is required. */
export function envBool(defaultValue?: boolean) {
  return envValue(
    "expected a boolean (true/false, 1/0, yes/no, on/off)",
    (value) => {
      const v = value.trim().toLowerCase();
      return truthy.has(v) ? true : falsy.has(v) ? false : undefined;
    },
    defaultValue,
  );
}

/** The levels pino knows. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
/** A pino log level. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A pino log level (default "info"). */
export function envLogLevel(defaultLevel: LogLevel = "info") {
  return envValue(
    `expected one of ${LOG_LEVELS.join(", ")}`,
    (value) => LOG_LEVELS.find((level) => level === value.trim().toLowerCase()),
    defaultLevel,
  );
}

/** Comma-separated values, trimmed, empty items dropped (default: []). */
export function envCsv(defaultValue: readonly string[] = []) {
  return envValue(
    "expected comma-separated values",
    (value) =>
      value
        .split(",")
        .map((item) => item.trim())
        .filter((item) => item !== ""),
    [...defaultValue],
  );
}
