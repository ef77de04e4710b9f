import * as grpc from "@grpc/grpc-js";
import * as hdr from "hdr-histogram-js";

export interface LoadResult {
  name: string;
  requests: number;
  errors: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Calls that succeeded, warm-up included: what the server must have done. */
  okTotal: number;
  /** The first error's message, if any. */
  firstError?: string;
}

/** One call of a load: resolves true when it succeeded; a rejection counts as a failure with its message. */
export type Call = (i: number) => Promise<boolean>;

/**
 * The one load loop of every benchmark: runs `call` with `inFlight` concurrent callers for `durationMs`
 * after `warmupMs` unmeasured, recording each call's latency in an HDR histogram (microseconds).
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
  let okTotal = 0;
  let firstError: string | undefined;
  let measuring = false;
  const stopAt = Date.now() + opts.warmupMs + opts.durationMs;
  const worker = async () => {
    while (Date.now() < stopAt) {
      const started = process.hrtime.bigint();
      const ok = await call(i++).catch((err: unknown) => {
        firstError ??= err instanceof Error ? err.message : String(err);
        return false;
      });
      if (ok) okTotal++;
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
    okTotal,
    ...(firstError === undefined ? {} : { firstError }),
  };
}

/** A stock grpc-js client making unary calls with raw bytes; a failed call rejects with the gRPC error. */
export function grpcCaller(address: string) {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return {
    client,
    call(path: string, request: Buffer, metadata: Record<string, string> = {}): Promise<boolean> {
      const md = new grpc.Metadata();
      for (const [k, v] of Object.entries(metadata)) md.set(k, v);
      return new Promise((resolve, reject) => {
        client.makeUnaryRequest(
          path,
          (b: Buffer) => b,
          (b: Buffer) => b,
          request,
          md,
          (err) => (err === null ? resolve(true) : reject(err)),
        );
      });
    },
  };
}

export interface UnaryCall {
  path: string;
  /** Sent with every call, e.g. `{ authorization: "Bearer ..." }`. */
  metadata?: Record<string, string>;
  /** Encodes the request for call number i (so requests can vary). */
  request: (i: number) => Buffer;
}

/** Drives one unary RPC with a stock grpc-js client (see {@link drive}). */
export async function runLoad(
  name: string,
  address: string,
  call: UnaryCall,
  opts: { inFlight: number; durationMs: number; warmupMs: number },
): Promise<LoadResult> {
  const grpcClient = grpcCaller(address);
  try {
    return await drive(name, (i) => grpcClient.call(call.path, call.request(i), call.metadata), opts);
  } finally {
    grpcClient.client.close();
  }
}
