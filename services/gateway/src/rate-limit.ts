import type { Redis } from "ioredis";
import type { Logger } from "pino";

/**
 * Token bucket, atomically in one round trip: KEYS[1] the bucket; ARGV rate (tokens/s), burst (bucket size).
 * Time is Redis's own (TIME), so every gateway replica refills the same bucket on the same clock. Returns
 * {allowed 0/1, tokens left (floored), ms until one token is back (0 when allowed), ms until the bucket is full}.
 */
const TOKEN_BUCKET = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
local full = math.ceil((burst - tokens) * 1000 / rate)
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.max(full, 1000))
return {allowed, math.floor(tokens), wait, full}
`;

/** The answer for one request. */
export interface RateLimitDecision {
  allowed: boolean;
  /** Requests left right now. */
  remaining: number;
  /** Seconds until a refused request may be retried (0 when allowed). */
  retryAfterSeconds: number;
  /** Seconds until the full quota is back. */
  resetSeconds: number;
}

export interface RateLimiterOptions {
  redis: Redis;
  /** Sustained requests per second. */
  rps: number;
  /** Bucket size: requests allowed at once. */
  burst: number;
  /** Key prefix, e.g. "gateway:rl:". */
  prefix: string;
  logger: Logger;
  /** Called when Redis could not answer and the request was let through. */
  onFailOpen?: () => void;
}

/** Header values of the IETF draft (draft-ietf-httpapi-ratelimit-headers-10) for one decision. */
export interface RateLimitHeaders {
  "ratelimit-policy": string;
  ratelimit?: string;
  "retry-after"?: string;
}

/**
 * Per-key token-bucket rate limits in Redis. When Redis cannot answer (down, slow, script error) the request is
 * let through (fail open: an outage of the limiter must not become an outage of the API) with a warning at most
 * every 10 s and `onFailOpen` for a metric; `check` then returns undefined.
 */
export function createRateLimiter(opts: RateLimiterOptions) {
  const { redis, rps, burst, prefix, logger } = opts;
  // The bucket as a quota per window: `burst` requests per the time the bucket takes to fill from empty.
  const windowSeconds = Math.max(1, Math.ceil(burst / rps));
  const policy = `"default";q=${burst};w=${windowSeconds}`;
  let lastWarning = 0;
  redis.defineCommand("gatewayTokenBucket", { numberOfKeys: 1, lua: TOKEN_BUCKET });
  const run = (
    redis as unknown as { gatewayTokenBucket(key: string, rate: number, burst: number): Promise<unknown> }
  ).gatewayTokenBucket.bind(redis);

  return {
    policy,
    /** Takes one token from `key`'s bucket ("u:<user id>", "ip:<address>", ...). */
    async check(key: string): Promise<RateLimitDecision | undefined> {
      try {
        const reply = await run(`${prefix}${key}`, rps, burst);
        const [allowed, remaining, waitMs, fullMs] = (reply as number[]).map(Number);
        return {
          allowed: allowed === 1,
          remaining: remaining ?? 0,
          retryAfterSeconds: Math.ceil((waitMs ?? 0) / 1000),
          resetSeconds: Math.ceil((fullMs ?? 0) / 1000),
        };
      } catch (err) {
        opts.onFailOpen?.();
        const now = Date.now();
        if (now - lastWarning > 10_000) {
          lastWarning = now;
          logger.warn({ err }, "rate limiter unavailable, letting requests through");
        }
        return undefined;
      }
    },
    /** RateLimit-Policy always; RateLimit when the limiter answered; Retry-After when refused. */
    headers(decision: RateLimitDecision | undefined): RateLimitHeaders {
      if (decision === undefined) return { "ratelimit-policy": policy };
      const t = decision.allowed ? decision.resetSeconds : decision.retryAfterSeconds;
      const out: RateLimitHeaders = {
        "ratelimit-policy": policy,
        ratelimit: `"default";r=${decision.remaining};t=${t}`,
      };
      if (!decision.allowed) out["retry-after"] = String(Math.max(1, decision.retryAfterSeconds));
      return out;
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
