import type { Authenticator } from "@fintech/auth";
import { build as buildFx, migrationsDir as fxMigrations, parseFxConfig } from "@fintech/fx";
import {
  build as buildIdentity,
  migrationsDir as identityMigrations,
  parseIdentityConfig,
} from "@fintech/identity";
import { systemClock } from "@fintech/platform";
import type { HarnessKit, TestTokens } from "@fintech/testing";
import { serviceTest } from "@fintech/testing";
import { createIdentityAuthenticator } from "../auth.js";
import type { GatewayConfig } from "../config.js";
import { parseGatewayConfig } from "../config.js";
import { build } from "../server.js";
import { checkAgainstSpec } from "./spec-check.js";

/** Nothing listens here: a backend that is down. */
export const DOWN_URL = "http://127.0.0.1:9";
export const ADMIN_EMAIL = "root@example.com";
export const ADMIN_PASSWORD = "Admin password 42";
/** The gateway's service credential at identity in tests. */
export const GATEWAY_SECRET = "gateway-secret-for-tests-0123456789";

export interface GatewayHarness {
  /** The gateway's base URL, e.g. http://127.0.0.1:34567. */
  url: string;
  /** Its Prometheus server's base URL. */
  metricsUrl: string;
  config: GatewayConfig;
  app: ReturnType<typeof build>;
  /** The key the gateway and fx trust, as they would trust identity's (unless identity runs in the file). */
  signer: TestTokens;
  /** Every log line the gateway wrote. */
  logs: () => string;
  /** identity's logs (when it runs in this file). */
  identityLogs: () => string;
  /** fetch against the gateway: `call("/api/v1/fx/currencies", { token })`. */
  call: (path: string, init?: CallInit) => Promise<Response>;
}

export interface CallInit extends Omit<RequestInit, "body"> {
  token?: string;
  /** Sent as JSON unless it is a string. */
  json?: unknown;
  body?: string;
}

/** One fetch helper for every test: JSON bodies, a bearer token, no redirects, every answer checked against the OpenAPI document. */
export function caller(url: string) {
  return async (path: string, init: CallInit = {}): Promise<Response> => {
    const { token, json, body, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (token !== undefined) headers.set("authorization", `Bearer ${token}`);
    let payload = body;
    if (json !== undefined) payload = JSON.stringify(json);
    if (payload !== undefined && !headers.has("content-type"))
      headers.set("content-type", "application/json");
    const res = await fetch(`${url}${path}`, {
      ...rest,
      headers,
      ...(payload === undefined ? {} : { body: payload }),
      redirect: "manual",
    });
    await checkAgainstSpec(rest.method ?? "GET", path, res);
    return res;
  };
}

/**
 * The gateway on a real port in front of the real fx service (this file's Postgres schema and NATS namespace,
 * default seed rates), with this file's Redis prefix for rate limits. Access tokens are verified against a
 * test signing key's JWKS, exactly as against identity's; identity itself is down (DOWN_URL) unless `env`
 * says otherwise. Extra gateway env (e.g. RATE_LIMIT_BURST) comes from `env`.
 */
export function gatewayTest(
  env: Record<string, string> = {},
  opts: { authenticator?: () => Authenticator; identity?: boolean } = {},
) {
  return serviceTest("gw", async (kit): Promise<GatewayHarness> => {
    const identity = opts.identity === true ? await startIdentity(kit) : undefined;
    const log = kit.recordLogs("gateway");
    const gatewayVars = {
      BACKENDS: "identity,fx",
      IDENTITY_URL: identity?.url ?? DOWN_URL,
      SERVICE_CLIENT_SECRET: GATEWAY_SECRET,
      RATE_LIMIT_PREFIX: kit.redis.prefix,
      ...env,
    };
    // One authenticator for the gateway and fx: a token the gateway accepts, fx accepts again.
    const authenticator =
      opts.authenticator?.() ??
      (identity !== undefined
        ? createIdentityAuthenticator(parseGatewayConfig(gatewayVars), { logger: log.logger })
        : kit.tokens.authenticator);

    const fxConfig = kit.config(parseFxConfig, { FX_RATE_CACHE_TTL_MS: "0" });
    await kit.prepare({ migrations: [fxMigrations], streams: ["fx"] });
    const fx = buildFx(fxConfig, { ...kit.deps, clock: systemClock, authenticator });
    await fx.service.seed(fxConfig.FX_SEED_RATES);
    const fxAt = await kit.start(fx);
    const config = { ...parseGatewayConfig({ FX_URL: fxAt.url, ...gatewayVars }), METRICS_PORT: 0 };
    const app = build(config, { redis: kit.redis.client, logger: log.logger, authenticator });
    const { url, metricsUrl } = await kit.start(app);
    return {
      url,
      metricsUrl,
      config,
      app,
      signer: kit.tokens,
      logs: log.text,
      identityLogs: identity?.logs ?? (() => ""),
      call: caller(url),
    };
  });
}

/**
 * The identity service with the system clock (the gateway checks token expiry against real time) in its own
 * schema beside the file's, an admin (ADMIN_EMAIL) and the gateway's service credential.
 */
async function startIdentity(kit: HarnessKit) {
  const { schema, pool } = await kit.schema("identity");
  const config = kit.config(parseIdentityConfig, {
    DB_SCHEMA: schema,
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    SERVICE_CREDENTIALS: `gateway:${GATEWAY_SECRET}`,
  });
  await kit.prepare({ schema, migrations: [identityMigrations], streams: ["identity"] });
  const log = kit.recordLogs("identity");
  const at = await kit.start(
    buildIdentity(config, { pool, nc: kit.nats.nc, logger: log.logger, clock: systemClock }),
  );
  return { url: at.url, logs: log.text };
}

/** The error body every failure has (docs/api.md). */
export interface ErrorBody {
  error: string;
  message: string;
  details: Record<string, string>;
  request_id: string;
  timestamp: string;
  path: string;
}
