// Load shapes for the fraud benchmark over a stock grpc-js client, with call metadata (the service token):
// closed loop (N calls in flight, each starting when the previous ends) and open loop (a fixed offered rate,
// whatever the answers do: latency counts from when a call was due, so a stalled server is not hidden).
import * as grpc from "@grpc/grpc-js";
import * as hdr from "hdr-histogram-js";

export interface Call {
  path: string;
  /** Encodes the request for call number i. */
  request: (i: number) => Buffer;
  metadata?: Record<string, string>;
}

export interface Figures {
  name: string;
  requests: number;
  errors: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** Open loop: the most calls that were in flight at once. */
  maxInFlight?: number;
  firstError?: string;
}

function histogram() {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

function unary(client: grpc.Client, call: Call, i: number, metadata: grpc.Metadata): Promise<Error | null> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      call.path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      call.request(i),
      metadata,
      (err) => resolve(err),
    );
  });
}

function metadataOf(values: Record<string, string> = {}): grpc.Metadata {
  const m = new grpc.Metadata();
  for (const [k, v] of Object.entries(values)) m.set(k, v);
  return m;
}

function figures(
  name: string,
  h: ReturnType<typeof histogram>,
  counts: { requests: number; errors: number; elapsedMs: number; firstError?: string },
): Figures {
  return {
    name,
    requests: counts.requests,
    errors: counts.errors,
    rps: counts.requests / (counts.elapsedMs / 1000),
    p50Ms: h.getValueAtPercentile(50) / 1000,
    p99Ms: h.getValueAtPercentile(99) / 1000,
    p999Ms: h.getValueAtPercentile(99.9) / 1000,
    maxMs: h.maxValue / 1000,
    ...(counts.firstError === undefined ? {} : { firstError: counts.firstError }),
  };
}

/** `inFlight` concurrent callers for `durationMs` after `warmupMs` unmeasured. */
export async function closedLoop(
  name: string,
  address: string,
  call: Call,
  opts: { inFlight: number; durationMs: number; warmupMs: number },
): Promise<Figures> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const metadata = metadataOf(call.metadata);
  const h = histogram();
  let i = 0;
  let requests = 0;
  let errors = 0;
  let firstError: string | undefined;
  let measuring = false;
  const warmupEnd = Date.now() + opts.warmupMs;
  const stopAt = warmupEnd + opts.durationMs;
  const worker = async () => {
    while (Date.now() < stopAt) {
      const started = process.hrtime.bigint();
      const err = await unary(client, call, i++, metadata);
      if (!measuring) continue;
      requests++;
      if (err) {
        errors++;
        firstError ??= err.message;
      }
      h.recordValue(Number((process.hrtime.bigint() - started) / 1000n));
    }
  };
  const workers = Array.from({ length: opts.inFlight }, worker);
  await new Promise((r) => setTimeout(r, opts.warmupMs));
  measuring = true;
  const t0 = performance.now();
  await Promise.all(workers);
  const elapsedMs = performance.now() - t0;
  client.close();
  return figures(name, h, { requests, errors, elapsedMs, ...(firstError ? { firstError } : {}) });
}

/**
 * Offers `rate` calls per second for `durationMs` (after `warmupMs` at the same rate, unmeasured), sent in
 * 1 ms ticks as they fall due, never waiting for answers. A call's latency runs from when it was due. A call due
 * while `maxInFlight` are outstanding is not sent and counts as an error (the server cannot keep up; an HTTP/2
 * session with thousands of open streams would be refused anyway). `rps` counts answered calls only.
 */
export async function openLoop(
  name: string,
  address: string,
  call: Call,
  opts: { rate: number; durationMs: number; warmupMs: number; maxInFlight: number },
): Promise<Figures> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const metadata = metadataOf(call.metadata);
  const h = histogram();
  let requests = 0;
  let errors = 0;
  let firstError: string | undefined;
  let inFlight = 0;
  let maxInFlight = 0;
  const pending: Promise<void>[] = [];
  const start = performance.now();
  const measureFrom = start + opts.warmupMs;
  const end = measureFrom + opts.durationMs;
  const interval = 1000 / opts.rate;
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.min(Math.floor((now - start) / interval), Math.floor((end - start) / interval));
      for (; sent < due; sent++) {
        const dueAt = start + sent * interval;
        const measured = dueAt >= measureFrom;
        if (inFlight >= opts.maxInFlight) {
          if (measured) {
            requests++;
            errors++;
            firstError ??= `more than ${opts.maxInFlight} calls outstanding: the server does not keep up`;
          }
          continue;
        }
        inFlight++;
        if (measured) maxInFlight = Math.max(maxInFlight, inFlight);
        pending.push(
          unary(client, call, sent, metadata).then((err) => {
            inFlight--;
            if (!measured) return;
            requests++;
            if (err) {
              errors++;
              firstError ??= err.message;
            }
            h.recordValue(Math.max(1, Math.round((performance.now() - dueAt) * 1000)));
          }),
        );
      }
      if (now >= end) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  await Promise.all(pending);
  client.close();
  const answered = figures(name, h, {
    requests,
    errors,
    elapsedMs: opts.durationMs,
    ...(firstError ? { firstError } : {}),
  });
  return { ...answered, rps: (requests - errors) / (opts.durationMs / 1000), maxInFlight };
}
