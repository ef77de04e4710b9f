import * as grpc from "@grpc/grpc-js";
import * as hdr from "hdr-histogram-js";

export interface LoadResult {
  name: string;
  requests: number;
  errors: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

export interface UnaryCall {
  path: string;
  /** Sent with every call, e.g. `{ authorization: "Bearer ..." }`. */
  metadata?: Record<string, string>;
  /** Encodes the request for call number i (so requests can vary). */
  request: (i: number) => Buffer;
}

/**
 * Drives one unary RPC with a stock grpc-js client at `inFlight` concurrent calls for `durationMs`
 * (after `warmupMs` unmeasured), recording each call's latency in an HDR histogram (microseconds).
 */
export async function runLoad(
  name: string,
  address: string,
  call: UnaryCall,
  opts: { inFlight: number; durationMs: number; warmupMs: number },
): Promise<LoadResult> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  const metadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(call.metadata ?? {})) metadata.set(k, v);
  let i = 0;
  let requests = 0;
  let errors = 0;
  let measuring = false;
  let stopAt = Number.POSITIVE_INFINITY;

  const once = () =>
    new Promise<void>((resolve) => {
      const started = process.hrtime.bigint();
      client.makeUnaryRequest(
        call.path,
        (b: Buffer) => b,
        (b: Buffer) => b,
        call.request(i++),
        metadata,
        (err) => {
          if (measuring) {
            requests++;
            if (err) errors++;
            histogram.recordValue(Number((process.hrtime.bigint() - started) / 1000n));
          }
          resolve();
        },
      );
    });

  const worker = async () => {
    while (Date.now() < stopAt) await once();
  };

  const warmupEnd = Date.now() + opts.warmupMs;
  stopAt = warmupEnd + opts.durationMs;
  const workers = Array.from({ length: opts.inFlight }, worker);
  await new Promise((r) => setTimeout(r, opts.warmupMs));
  measuring = true;
  const t0 = performance.now();
  await Promise.all(workers);
  const elapsedMs = performance.now() - t0;
  client.close();
  return {
    name,
    requests,
    errors,
    rps: requests / (elapsedMs / 1000),
    p50Ms: histogram.getValueAtPercentile(50) / 1000,
    p99Ms: histogram.getValueAtPercentile(99) / 1000,
  };
}
