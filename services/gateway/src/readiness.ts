import type { Transport } from "@connectrpc/connect";
import { createClient } from "@connectrpc/connect";
import type { ReadinessReport } from "@fintech/platform";
import { createReadinessReport, READINESS_TIMEOUT_MS, READY } from "@fintech/platform";
import {
  Health,
  HealthCheckResponse_ServingStatus as Status,
} from "@fintech/proto/grpc/health/v1/health_pb.js";
import type { Redis } from "ioredis";

/**
 * The answer of GET /ready: "ok", or what is wrong, per dependency ("redis", and each backend by name).
 * Readiness: Redis answers PING and every backend's grpc.health.v1 Check("") says SERVING (each backend's own
 * check covers its Postgres and NATS), all asked at once with a 1 s deadline each.
 */
export function createReadiness(
  redis: Redis,
  backends: ReadonlyArray<{ name: string; transport: Transport }>,
): () => Promise<ReadinessReport> {
  const more: Record<string, () => Promise<string>> = {};
  for (const b of backends) {
    const health = createClient(Health, b.transport);
    more[b.name] = async () => {
      try {
        const res = await health.check({ service: "" }, { timeoutMs: READINESS_TIMEOUT_MS });
        return res.status === Status.SERVING ? READY : (Status[res.status] ?? "unknown").toLowerCase();
      } catch {
        return "unavailable";
      }
    };
  }
  return createReadinessReport({ redis, more });
}
