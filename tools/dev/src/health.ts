// Asks every service of the platform for its grpc.health.v1 status with a stock grpc-js client, as
// an orchestrator's probe would (the HTTP edge: GET /ready); exits non-zero unless all are SERVING.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  HealthCheckRequestSchema,
  HealthCheckResponse_ServingStatus,
  HealthCheckResponseSchema,
} from "@fintech/proto/grpc/health/v1/health_pb.js";
import * as grpc from "@grpc/grpc-js";
import { services } from "./services.js";

const host = process.env.DEV_HOST ?? "127.0.0.1";

function check(port: number): Promise<string> {
  const client = new grpc.Client(`${host}:${port}`, grpc.credentials.createInsecure());
  return new Promise<string>((resolve) => {
    client.makeUnaryRequest(
      "/grpc.health.v1.Health/Check",
      (m: ReturnType<typeof create<typeof HealthCheckRequestSchema>>) =>
        Buffer.from(toBinary(HealthCheckRequestSchema, m)),
      (b: Buffer) => fromBinary(HealthCheckResponseSchema, b),
      create(HealthCheckRequestSchema, { service: "" }),
      { deadline: Date.now() + 2_000 },
      (err, res) =>
        resolve(
          err ? `unreachable (${err.details})` : (HealthCheckResponse_ServingStatus[res?.status ?? 0] ?? "?"),
        ),
    );
  }).finally(() => client.close());
}

async function ready(port: number): Promise<string> {
  try {
    const res = await fetch(`http://${host}:${port}/ready`, { signal: AbortSignal.timeout(2_000) });
    return res.ok ? "SERVING" : `NOT_SERVING (${res.status})`;
  } catch (err) {
    return `unreachable (${err instanceof Error ? err.message : err})`;
  }
}

let healthy = true;
for (const svc of services) {
  const port = Number(process.env[`${svc.name.toUpperCase()}_PORT`] ?? svc.port);
  const status = svc.kind === "http" ? await ready(port) : await check(port);
  healthy &&= status === "SERVING";
  console.log(`${svc.name.padEnd(10)} ${host}:${port}  ${status}`);
}
process.exit(healthy ? 0 : 1);
