import { Agent, request } from "node:http";
import * as grpc from "@grpc/grpc-js";
import * as hdr from "hdr-histogram-js";
import type { LoadResult } from "./load.js";

/** One call of a load: resolves true when it succeeded. */
export type Call = (i: number) => Promise<boolean>;

/**
 * Runs `call` with `inFlight` concurrent callers for `durationMs` after `warmupMs` unmeasured, recording each
 * call's latency in an HDR histogram (microseconds).
 */
export async function drive(
  name: string,
  call: Call,
  opts: { inFlight: number; durationMs: number; warmupMs: number },
): Promise<LoadResult> {
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  let i = 0;
  let requests = 0;
  let errors = 0;
  let measuring = false;
  const stopAt = Date.now() + opts.warmupMs + opts.durationMs;
  const worker = async () => {
    while (Date.now() < stopAt) {
      const started = process.hrtime.bigint();
      const ok = await call(i++).catch(() => false);
      if (measuring) {
        requests++;
        if (!ok) errors++;
        histogram.recordValue(Number((process.hrtime.bigint() - started) / 1000n));
      }
    }
  };
  const workers = Array.from({ length: opts.inFlight }, worker);
  await new Promise((r) => setTimeout(r, opts.warmupMs));
  measuring = true;
  const t0 = performance.now();
  await Promise.all(workers);
  const elapsedMs = performance.now() - t0;
  return {
    name,
    requests,
    errors,
    rps: requests / (elapsedMs / 1000),
    p50Ms: histogram.getValueAtPercentile(50) / 1000,
    p99Ms: histogram.getValueAtPercentile(99) / 1000,
  };
}

/** HTTP/1.1 keep-alive requests (one socket per caller), as a REST client sends them. */
export function httpCaller(baseUrl: string, maxSockets: number) {
  const agent = new Agent({ keepAlive: true, maxSockets });
  return {
    agent,
    call(
      method: string,
      path: string,
      headers: Record<string, string>,
      body?: string,
    ): Promise<{ status: number; body: string }> {
      return new Promise((resolve, reject) => {
        const req = request(`${baseUrl}${path}`, { method, headers, agent }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
          );
          res.on("error", reject);
        });
        req.on("error", reject);
        req.end(body);
      });
    },
  };
}

/** A stock grpc-js unary call with metadata (bytes in, bytes out). */
export function grpcCaller(address: string) {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return {
    client,
    call(path: string, request: Buffer, metadata: Record<string, string>): Promise<boolean> {
      const md = new grpc.Metadata();
      for (const [k, v] of Object.entries(metadata)) md.set(k, v);
      return new Promise((resolve) => {
        client.makeUnaryRequest(
          path,
          (b: Buffer) => b,
          (b: Buffer) => b,
          request,
          md,
          (err) => resolve(err === null),
        );
      });
    },
  };
}
