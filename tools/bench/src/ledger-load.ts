import { runLoad } from "./load.js";

export interface LedgerLoadResult {
  name: string;
  /** Calls completed while measuring. */
  calls: number;
  /** Calls that failed (any non-OK status). */
  errors: number;
  /** Transfers the completed calls carried (calls x transfers per call). */
  transfers: number;
  callsPerSecond: number;
  transfersPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Calls that succeeded, warm-up included: what the ledger must have stored. */
  okCallsTotal: number;
  /** The first error's message, if any. */
  firstError?: string;
}

/** load.ts's runLoad with a service token on every call (the ledger accepts only services), counted in transfers. */
export async function runLedgerLoad(
  name: string,
  address: string,
  call: { path: string; request: (i: number) => Buffer; transfersPerCall: number; token: string },
  opts: { inFlight: number; durationMs: number; warmupMs: number },
): Promise<LedgerLoadResult> {
  const r = await runLoad(
    name,
    address,
    { path: call.path, request: call.request, metadata: { authorization: `Bearer ${call.token}` } },
    opts,
  );
  const transfers = (r.requests - r.errors) * call.transfersPerCall;
  return {
    name,
    calls: r.requests,
    errors: r.errors,
    transfers,
    callsPerSecond: r.rps,
    transfersPerSecond: (r.rps * transfers) / Math.max(1, r.requests),
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    okCallsTotal: r.okTotal,
    ...(r.firstError === undefined ? {} : { firstError: r.firstError }),
  };
}
