import { createHash } from "node:crypto";
import { findCurrency } from "@fintech/money";
import { ConfigError, envInt, parseConfig, serviceEnv, serviceRegistry } from "@fintech/platform";
import { z } from "zod";
import { checkPassword } from "./password-policy.js";

/** A service allowed to ask for service tokens; only the SHA-256 of its secret is kept. */
export interface ServiceCredential {
  clientId: string;
  secretSha256: Buffer;
}

const MIN_SERVICE_SECRET = 16;

// "gateway:secret,wallet:secret2". Secrets are hashed at once so the plain text is not kept in the config.
const serviceCredentials = z
  .string()
  .default("")
  .transform((text, ctx) => {
    const out: ServiceCredential[] = [];
    for (const item of text
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean)) {
      const at = item.indexOf(":");
      const clientId = at > 0 ? item.slice(0, at) : "";
      const secret = at > 0 ? item.slice(at + 1) : "";
      if (!/^[a-z][a-z0-9-]{0,62}$/.test(clientId) || secret.length < MIN_SERVICE_SECRET) {
        // Never echo the item: it holds a secret.
        ctx.addIssue({
          code: "custom",
          message: `expected name:secret items (name lower-case, secret at least ${MIN_SERVICE_SECRET} characters)`,
        });
        return z.NEVER;
      }
      if (out.some((c) => c.clientId === clientId)) {
        ctx.addIssue({ code: "custom", message: `service ${clientId} is listed twice` });
        return z.NEVER;
      }
      out.push({ clientId, secretSha256: createHash("sha256").update(secret).digest() });
    }
    return out;
  });

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v === "" ? undefined : v));

export const identityEnv = z
  .object({
    // Its events end sessions in every other service (a suspension, a role taken away): published at once.
    ...serviceEnv(serviceRegistry.identity, { outboxLingerMs: 0 }),
    JWT_ISSUER: z.string().min(1).default("fintech-identity"),
    JWT_AUDIENCE: z.string().min(1).default("fintech"),
    ACCESS_TOKEN_TTL_SECONDS: envInt(900, { min: 30, max: 86_400 }),
    REFRESH_TOKEN_TTL_DAYS: envInt(30, { min: 1, max: 365 }),
    SERVICE_TOKEN_TTL_SECONDS: envInt(300, { min: 60, max: 86_400 }),
    // At least the verifiers' JWKS refresh interval (30 s): a rotated key is published this long before it signs.
    SIGNING_KEY_ACTIVATION_DELAY_SECONDS: envInt(60, { min: 0, max: 3_600 }),
    SIGNING_KEY_CACHE_MS: envInt(60_000, { min: 0, max: 600_000 }),
    LOGIN_FREE_ATTEMPTS: envInt(5, { min: 1, max: 100 }),
    LOGIN_BACKOFF_BASE_MS: envInt(1_000, { min: 1, max: 60_000 }),
    LOGIN_BACKOFF_MAX_SECONDS: envInt(900, { min: 1, max: 86_400 }),
    LOGIN_FAILURE_RESET_SECONDS: envInt(3_600, { min: 60, max: 7 * 86_400 }),
    HASH_CONCURRENCY: envInt(0, { min: 0, max: 64 }),
    ADMIN_EMAIL: optionalText,
    ADMIN_PASSWORD: optionalText,
    SERVICE_CREDENTIALS: serviceCredentials,
  })
  .superRefine((c, ctx) => {
    if ((c.ADMIN_EMAIL === undefined) !== (c.ADMIN_PASSWORD === undefined)) {
      const missing = c.ADMIN_EMAIL === undefined ? "ADMIN_EMAIL" : "ADMIN_PASSWORD";
      ctx.addIssue({
        code: "custom",
        path: [missing],
        message: "ADMIN_EMAIL and ADMIN_PASSWORD go together",
      });
    }
    if (c.ADMIN_PASSWORD !== undefined) {
      const problem = checkPassword(c.ADMIN_PASSWORD, c.ADMIN_EMAIL ?? "");
      if (problem !== undefined) ctx.addIssue({ code: "custom", path: ["ADMIN_PASSWORD"], message: problem });
    }
  });

export type IdentityConfig = z.infer<typeof identityEnv>;

const isConfigError = (e: unknown): e is ConfigError => e instanceof Error && e.name === "ConfigError";

/**
 * Reads and validates the identity service's environment; throws one ConfigError naming every bad variable,
 * never showing the value of SERVICE_CREDENTIALS (parseConfig only hides variables named like SECRET, PASSWORD,
 * TOKEN or KEY).
 */
export function parseIdentityConfig(env: NodeJS.ProcessEnv = process.env): IdentityConfig {
  try {
    return parseConfig(identityEnv, env);
  } catch (err) {
    const raw = env.SERVICE_CREDENTIALS;
    if (!isConfigError(err) || raw === undefined || raw === "") throw err;
    const hide = (text: string) =>
      text.replaceAll(JSON.stringify(raw), "<redacted>").replaceAll(raw, "<redacted>");
    throw new ConfigError(
      hide(err.message),
      err.issues.map((i) => ({ ...i, message: hide(i.message) })),
      { cause: err.cause },
    );
  }
}

/** The default currency of users who do not choose one. */
export const DEFAULT_CURRENCY = "MYR";
/** The time zone of users who do not choose one. */
export const DEFAULT_TIMEZONE = "UTC";

export const isCurrency = (code: string): boolean => findCurrency(code) !== undefined;
