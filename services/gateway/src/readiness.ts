import type { Transport } from "@connectrpc/connect";
import { createClient } from "@connectrpc/connect";
import {
  Health,
  HealthCheckResponse_ServingStatus as Status,
} from "@fintech/proto/grpc/health/v1/health_pb.js";
import type { Redis } from "ioredis";

const CHECK_TIMEOUT_MS = 1_000;

/** The result of GET /ready. */
export interface Readiness {
  ready: boolean;
  /** "ok", or what is wrong, per dependency: "redis", and each backend by name. */
  checks: Record<string, string>;
}

/**
 * Readiness: Redis answers PING and every backend's grpc.health.v1 Check("") says SERVING (each backend's own
 * check covers its Postgres and NATS), all asked at once with a 1 s deadline each.
 */
export function createReadiness(
  redis: Redis,
  backends: ReadonlyArray<{ name: string; transport: Transport }>,
) {
  const clients = backends.map((b) => ({ name: b.name, health: createClient(Health, b.transport) }));
  return async (): Promise<Readiness> => {
    const checks: Record<string, string> = {};
    const redisCheck = (async () => {
      try {
        const pong = await withTimeout(redis.ping(), CHECK_TIMEOUT_MS);
        checks.redis = pong === "PONG" ? "ok" : `unexpected answer ${pong}`;
      } catch (err) {
        checks.redis = `unavailable: ${err instanceof Error ? err.message : String(err)}`;
      }
    })();
    const backendChecks = clients.map(async ({ name, health }) => {
      try {
        const res = await health.check({ service: "" }, { timeoutMs: CHECK_TIMEOUT_MS });
        checks[name] = res.status === Status.SERVING ? "ok" : (Status[res.status] ?? "unknown").toLowerCase();
      } catch {
        checks[name] = "unavailable";
      }
    });
    await Promise.all([redisCheck, ...backendChecks]);
    return { ready: Object.values(checks).every((c) => c === "ok"), checks };
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
