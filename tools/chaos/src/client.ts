// A careful REST client: every money-moving request carries an Idempotency-Key and is retried with the SAME
// key after 1, 2, 4, 8, 16 and 32 s on any transport error, timeout, 5xx or 409 IDEMPOTENCY_KEY_IN_USE, the
// way the API tells clients to retry. What it finally got is the request's outcome.
import { setTimeout as sleep } from "node:timers/promises";

export type Json = Record<string, unknown>;

/** How one request ended for the client. */
export type Answer =
  /** 2xx: the platform said it did it. */
  | { kind: "acknowledged"; status: number; body: Json }
  /** A 4xx that is the platform's final word (insufficient balance, declined, ...). */
  | { kind: "refused"; status: number; body: Json }
  /** Never a final answer, every retry spent. */
  | { kind: "unknown"; last: string };

export interface CallOptions {
  token?: string;
  body?: unknown;
  key?: string;
  /** Per-attempt deadline, ms. */
  timeoutMs?: number;
}

export const RETRY_DELAYS_MS = [1_000, 2_000, 4_000, 8_000, 16_000, 32_000];

export class RestClient {
  constructor(private readonly baseUrl: () => string) {}

  /** One attempt; throws on transport failure or timeout. */
  async once(method: string, path: string, opts: CallOptions = {}): Promise<{ status: number; body: Json }> {
    const headers: Record<string, string> = {};
    if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
    if (opts.key !== undefined) headers["idempotency-key"] = opts.key;
    let body: string | undefined;
    if (opts.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(opts.body);
    }
    const res = await fetch(`${this.baseUrl()}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000),
    });
    const text = await res.text();
    let parsed: Json = {};
    try {
      parsed = text === "" ? {} : (JSON.parse(text) as Json);
    } catch {
      parsed = { raw: text.slice(0, 200) };
    }
    return { status: res.status, body: parsed };
  }

  /** The request until it gets a final answer, retried on the schedule above. */
  async withRetries(
    method: string,
    path: string,
    opts: CallOptions,
    log?: (line: string) => void,
  ): Promise<Answer> {
    let last = "";
    for (let attempt = 0; ; attempt++) {
      try {
        const { status, body } = await this.once(method, path, opts);
        if (status >= 200 && status < 300) return { kind: "acknowledged", status, body };
        const retryable = status >= 500 || (status === 409 && body.error === "IDEMPOTENCY_KEY_IN_USE");
        if (!retryable) return { kind: "refused", status, body };
        last = `${status} ${String(body.error)}`;
      } catch (err) {
        last = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      }
      const delay = RETRY_DELAYS_MS[attempt];
      if (delay === undefined) return { kind: "unknown", last };
      log?.(`${method} ${path} key ${opts.key ?? "-"}: ${last}; retrying in ${delay / 1000} s`);
      await sleep(delay);
    }
  }

  /** A call that must succeed now (set-up and checks): retried briefly, then an error. */
  async must(method: string, path: string, opts: CallOptions = {}): Promise<Json> {
    let last = "";
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        const { status, body } = await this.once(method, path, opts);
        if (status >= 200 && status < 300) return body;
        last = `${status} ${JSON.stringify(body)}`;
        if (status < 500 && status !== 409 && status !== 429) break;
      } catch (err) {
        last = String(err);
      }
      await sleep(500);
    }
    throw new Error(`${method} ${path}: ${last}`);
  }
}

/** A decimal string with two decimals ("12.34", "5", "-0.10") as minor units; exact, no floats. */
export function minorOf(amount: unknown): bigint {
  const s = String(amount);
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(s);
  if (m === null) throw new Error(`not a two-decimal amount: ${s}`);
  const minor = BigInt(m[2] ?? "0") * 100n + BigInt((m[3] ?? "").padEnd(2, "0"));
  return m[1] === "-" ? -minor : minor;
}

/** Minor units as a two-decimal string. */
export function decimalOf(minor: bigint): string {
  const sign = minor < 0n ? "-" : "";
  const abs = minor < 0n ? -minor : minor;
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, "0")}`;
}
