import { Writable } from "node:stream";
import type { Authenticator, Principal } from "@fintech/auth";
import { createAuthenticator, createJwtVerifier, signAccessToken } from "@fintech/auth";
import { createPool, migrate } from "@fintech/db";
import { ensureStream, eventsMigrationsDir } from "@fintech/events";
import { build as buildFx, migrationsDir as fxMigrations, parseFxConfig } from "@fintech/fx";
import {
  build as buildIdentity,
  migrationsDir as identityMigrations,
  parseIdentityConfig,
} from "@fintech/identity";
import { createLogger } from "@fintech/platform";
import { test as base } from "@fintech/testing";
import type { NatsConnection } from "@nats-io/transport-node";
import type { CryptoKey, JWK } from "jose";
import { exportJWK, generateKeyPair } from "jose";
import pg from "pg";
import pino from "pino";
import { createIdentityAuthenticator } from "../auth.js";
import type { GatewayConfig } from "../config.js";
import { parseGatewayConfig } from "../config.js";
import { build } from "../server.js";
import { checkAgainstSpec } from "./spec-check.js";

/** Nothing listens here: a backend that is down. */
export const DOWN_URL = "http://127.0.0.1:9";
export const ISSUER = "fintech-identity";
export const AUDIENCE = "fintech";
export const ADMIN_EMAIL = "root@example.com";
export const ADMIN_PASSWORD = "Admin password 42";
/** The gateway's service credential at identity in tests. */
export const GATEWAY_SECRET = "gateway-secret-for-tests-0123456789";

/** The signing key tests mint access tokens with, as identity would. */
export interface TestSigner {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  /** A valid access token for `principal` (a user with the role "user" by default). */
  token(principal?: Principal, opts?: { ttlSeconds?: number; now?: Date }): Promise<string>;
}

export async function testSigner(kid = "test-key-1"): Promise<TestSigner> {
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", { extractable: true });
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: "EdDSA", use: "sig" };
  return {
    kid,
    privateKey,
    publicJwk,
    async token(
      principal = { kind: "user", userId: "user-1", roles: ["user"], credential: "jwt" },
      opts = {},
    ) {
      const { token } = await signAccessToken({
        privateKey,
        kid,
        issuer: ISSUER,
        audience: AUDIENCE,
        principal,
        ttlSeconds: opts.ttlSeconds ?? 300,
        now: opts.now ?? new Date(),
      });
      return token;
    },
  };
}

/** Log lines written during the file, for asserting what they never contain. */
export function memoryLog(name = "gateway", level = "info") {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return {
    logger: createLogger({ name, level, destination }),
    text: () => lines.join(""),
  };
}

export interface GatewayHarness {
  /** The gateway's base URL, e.g. http://127.0.0.1:34567. */
  url: string;
  /** Its Prometheus server's base URL. */
  metricsUrl: string;
  config: GatewayConfig;
  app: ReturnType<typeof build>;
  signer: TestSigner;
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
    const res = await fetch(`${url}${path}`, { ...rest, headers, body: payload, redirect: "manual" });
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
  return base.extend<{ $file: { gw: GatewayHarness } }>({
    gw: [
      async ({ pg, nats, redis }, use) => {
        const fxConfig = {
          ...parseFxConfig({
            DB_SCHEMA: pg.schema,
            EVENTS_NAMESPACE: nats.namespace,
            FX_RATE_CACHE_TTL_MS: "0",
          }),
          METRICS_PORT: 0,
        };
        const identity =
          opts.identity === true ? await startIdentity(pg.url, `${pg.schema}_identity`, nats) : undefined;
        const signer = await testSigner();
        const log = memoryLog();
        const gatewayVars = {
          BACKENDS: "identity,fx",
          IDENTITY_URL: identity?.url ?? DOWN_URL,
          SERVICE_CLIENT_SECRET: GATEWAY_SECRET,
          RATE_LIMIT_PREFIX: redis.prefix,
          ...env,
        };
        // One authenticator for the gateway and fx: a token the gateway accepts, fx accepts again.
        const authenticator =
          opts.authenticator?.() ??
          (identity !== undefined
            ? createIdentityAuthenticator(parseGatewayConfig(gatewayVars), { logger: log.logger })
            : createAuthenticator({
                jwt: createJwtVerifier({
                  getJwks: async () => ({ keys: [signer.publicJwk] }),
                  issuer: ISSUER,
                  audience: AUDIENCE,
                }),
              }));

        await migrate({ url: pg.url, schema: pg.schema, dirs: [eventsMigrationsDir, fxMigrations] });
        await ensureStream(nats.nc, { context: "fx", namespace: nats.namespace });
        const fx = buildFx(fxConfig, {
          pool: pg.pool,
          nc: nats.nc,
          logger: pino({ level: "silent" }),
          clock: { now: () => new Date() },
          authenticator,
        });
        await fx.service.seed(fxConfig.FX_SEED_RATES);
        const fxAt = await fx.start({ port: 0, host: "127.0.0.1" });
        const config = { ...parseGatewayConfig({ FX_URL: fxAt.url, ...gatewayVars }), METRICS_PORT: 0 };
        const app = build(config, { redis: redis.client, logger: log.logger, authenticator });
        const { url, metricsUrl } = await app.start({ port: 0, host: "127.0.0.1" });
        try {
          await use({
            url,
            metricsUrl,
            config,
            app,
            signer,
            logs: log.text,
            identityLogs: identity?.logs ?? (() => ""),
            call: caller(url),
          });
        } finally {
          await app.stop();
          await fx.stop();
          await identity?.stop();
        }
      },
      { scope: "file" },
    ],
  });
}

/**
 * The identity service with the system clock (the gateway checks token expiry against real time) in its own
 * schema beside the file's, an admin (ADMIN_EMAIL) and the gateway's service credential.
 */
async function startIdentity(url: string, schema: string, nats: { nc: NatsConnection; namespace: string }) {
  const config = {
    ...parseIdentityConfig({
      DB_SCHEMA: schema,
      EVENTS_NAMESPACE: nats.namespace,
      ADMIN_EMAIL,
      ADMIN_PASSWORD,
      SERVICE_CREDENTIALS: `gateway:${GATEWAY_SECRET}`,
    }),
    METRICS_PORT: 0,
  };
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await admin.end();
  }
  await migrate({ url, schema, dirs: [eventsMigrationsDir, identityMigrations] });
  await ensureStream(nats.nc, { context: "identity", namespace: nats.namespace });
  const pool = createPool({ url, schema, max: 5 });
  const log = memoryLog("identity");
  const app = buildIdentity(config, {
    pool,
    nc: nats.nc,
    logger: log.logger,
    clock: { now: () => new Date() },
  });
  const at = await app.start({ port: 0, host: "127.0.0.1" });
  return {
    url: at.url,
    logs: log.text,
    async stop() {
      await app.stop();
      await pool.end();
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await c.end();
      }
    },
  };
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
