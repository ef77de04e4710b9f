// What the deploy checks read: the repository's files, and each service's configuration schema through the
// parse function its package exports (the one its main.ts calls).

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAnalyticsConfig } from "@fintech/analytics";
import { parseFraudConfig } from "@fintech/fraud";
import { parseFxConfig } from "@fintech/fx";
import { parseGatewayConfig } from "@fintech/gateway";
import { parseIdentityConfig } from "@fintech/identity";
import { parseLedgerConfig } from "@fintech/ledger";
import { parseNotificationsConfig } from "@fintech/notifications";
import type { ServiceEntry } from "@fintech/platform";
import { platformServices } from "@fintech/platform";
import { parseWalletConfig } from "@fintech/wallet";
import { parse } from "yaml";

/** The repository's root directory. */
export const root = fileURLToPath(new URL("../../../", import.meta.url));
/** The Helm chart's directory. */
export const chartDir = join(root, "deploy/helm/fintech-platform");

/** Reads a file of the repository as text. */
export const readText = (path: string): string => readFileSync(join(root, path), "utf8");

/** Parses YAML as Helm and Compose do here: `<<` merge keys honoured, every key a string. */
export const readYaml = (path: string): unknown => parse(readText(path), { merge: true });

/** Every service of the monorepo: the directories under services/ that have a src/main.ts. */
export function serviceDirs(): string[] {
  return readdirSync(join(root, "services"))
    .filter((name) => statSync(join(root, "services", name, "src/main.ts"), { throwIfNoEntry: false }))
    .sort();
}

/** A service's entry in libs/platform's service registry; throws when the registry has none. */
export function registryEntry(service: string): ServiceEntry {
  const entry = platformServices.find((s) => s.name === service);
  if (entry === undefined)
    throw new Error(`no entry for service ${service} in libs/platform's service registry`);
  return entry;
}

/** The service a variable such as FX_URL reaches, by the registry's URL variables; undefined for any other. */
export const calleeOf = (variable: string): string | undefined =>
  platformServices.find((s) => s.urlEnv === variable)?.name;

/** A service's parse function: env in, its typed configuration out (throws naming every bad variable). */
export type ParseConfig = (env: NodeJS.ProcessEnv) => object;

/** Each service's configuration parser, by directory name. A new service adds one line here. */
export const parsers: Record<string, ParseConfig> = {
  analytics: parseAnalyticsConfig,
  fraud: parseFraudConfig,
  fx: parseFxConfig,
  gateway: parseGatewayConfig,
  identity: parseIdentityConfig,
  ledger: parseLedgerConfig,
  notifications: parseNotificationsConfig,
  wallet: parseWalletConfig,
};

/** The parser of a service; throws when the service has none in {@link parsers}. */
export function parserOf(service: string): ParseConfig {
  const parser = parsers[service];
  if (parser === undefined) throw new Error(`no configuration parser for service ${service} in repo.ts`);
  return parser;
}

/**
 * The environment variables a service's configuration reads: parsing an empty environment through a proxy that
 * records every name asked for. That is the schema's full list (zod reads each key of its shape), authEnv's
 * variables and the gateway's per-backend URLs included.
 */
export function variablesRead(service: string): Set<string> {
  const read = new Set<string>();
  const env = new Proxy<NodeJS.ProcessEnv>(
    {},
    {
      get(_target, key) {
        if (typeof key === "string" && /^[A-Z][A-Z0-9_]*$/.test(key)) read.add(key);
        return undefined;
      },
    },
  );
  parserOf(service)(env);
  return read;
}

/** A service's configuration with nothing set: its defaults. */
export function defaultsOf(service: string): Record<string, unknown> {
  return { ...parserOf(service)({}) };
}

/** Whether a value is a plain object (a YAML mapping). */
export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Helm's way of laying a values file over the chart's values.yaml: mappings merge key by key, anything else
 * replaces, and null removes the key.
 */
export function mergeValues(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    if (value === null) delete out[key];
    else if (isRecord(value) && isRecord(current)) out[key] = mergeValues(current, value);
    else out[key] = value;
  }
  return out;
}

/** A field of a parsed YAML/JSON document that must be a mapping. */
export function record(value: unknown, what: string): Record<string, unknown> {
  if (!isRecord(value)) throw new Error(`${what} is not a mapping`);
  return value;
}
