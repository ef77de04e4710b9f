/** The request headers the gateway passes on to the service it calls. */
export const FORWARDED_HEADERS = ["authorization", "x-api-key", "x-request-id", "idempotency-key"] as const;

/**
 * The caller's credential and request metadata to send on a backend call: `authorization`, `x-api-key`,
 * `x-request-id` and `idempotency-key`, those present in `headers`, with lower-case names.
 */
export function forwardCredentials(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of FORWARDED_HEADERS) {
    const value = headers.get(name);
    if (value !== null) out[name] = value;
  }
  return out;
}
