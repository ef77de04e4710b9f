import { authEnv } from "@fintech/auth";
import {
  DEFAULT_REDIS_URL,
  envCsv,
  envInt,
  envServiceUrl,
  envUrl,
  parseConfig,
  serverEnv,
  serviceRegistry,
} from "@fintech/platform";
import { z } from "zod";
import { backends } from "./backends.js";

type BackendEnv = (typeof backends)[number]["env"];

// One URL variable per backend (FX_URL, IDENTITY_URL, ...), from the backend table: a URL or a list of them.
const backendUrls = Object.fromEntries(backends.map((b) => [b.env, envServiceUrl(b.defaultUrl)])) as Record<
  BackendEnv,
  ReturnType<typeof envServiceUrl>
>;

export const gatewayEnv = z
  .object({
    ...serverEnv(serviceRegistry.gateway),
    REDIS_URL: envUrl(DEFAULT_REDIS_URL),
    /** Prefix of every rate-limit key in Redis. */
    RATE_LIMIT_PREFIX: z.string().default("gateway:rl:"),
    /** Sustained requests per second per principal (or per client IP when anonymous). */
    RATE_LIMIT_RPS: envInt(100, { min: 1, max: 1_000_000 }),
    /** Requests allowed at once above the sustained rate (the bucket's size). */
    RATE_LIMIT_BURST: envInt(200, { min: 1, max: 1_000_000 }),
    /** Origins allowed by CORS ("*" for any); empty: no CORS headers, browsers on other origins are refused. */
    CORS_ORIGINS: envCsv(),
    /** Deadline of one backend call, in ms (504 after it). */
    BACKEND_TIMEOUT_MS: envInt(10_000, { min: 1, max: 600_000 }),
    /** Protocol of backend calls over HTTP/2: "connect" (measured faster, see tools/bench) or "grpc". */
    BACKEND_PROTOCOL: z.enum(["connect", "grpc"]).default("connect"),
    /** How many proxies in front of the gateway append to X-Forwarded-For (0: use the socket's address). */
    TRUST_PROXY_HOPS: envInt(0, { min: 0, max: 10 }),
    /**
     * The backends routed to (csv of names; default all): a deployment without a service leaves it out, and
     * its routes answer 404 and stay out of /ready and the OpenAPI document.
     */
    BACKENDS: envCsv(backends.map((b) => b.name)).refine(
      (names) => names.every((n) => backends.some((b) => b.name === n)),
      `expected names among ${backends.map((b) => b.name).join(", ")}`,
    ),
    /**
     * Most a client may take to send a request's headers, in ms (Node's default is 60 s): a client trickling them
     * gets 408 and the connection is closed, so slow clients cannot hold sockets open.
     */
    HEADERS_TIMEOUT_MS: envInt(5_000, { min: 100, max: 120_000 }),
    /**
     * Most a client may take to send a whole request, headers and body, in ms (Node's default is 300 s); 408 after
     * it. 30 s lets a 1 MiB body through at about 35 KB/s. The backend call's own time does not count.
     */
    REQUEST_TIMEOUT_MS: envInt(30_000, { min: 100, max: 600_000 }),
    /**
     * How long an idle keep-alive connection stays open between requests, in ms. Behind a load balancer keep it
     * above the balancer's idle timeout (60 s on many), or the balancer reuses connections the gateway has closed.
     */
    KEEP_ALIVE_TIMEOUT_MS: envInt(5_000, { min: 1_000, max: 600_000 }),
    ...backendUrls,
    ...authEnv("gateway"),
  })
  .superRefine((c, ctx) => {
    if (c.HEADERS_TIMEOUT_MS > c.REQUEST_TIMEOUT_MS) {
      ctx.addIssue({
        code: "custom",
        path: ["HEADERS_TIMEOUT_MS"],
        message: `expected at most REQUEST_TIMEOUT_MS (${c.REQUEST_TIMEOUT_MS})`,
      });
    }
  });

export type GatewayConfig = z.infer<typeof gatewayEnv>;

/** Reads and validates the gateway's environment; throws one message naming every bad variable. */
export const parseGatewayConfig = (env: NodeJS.ProcessEnv = process.env): GatewayConfig =>
  parseConfig(gatewayEnv, env);
