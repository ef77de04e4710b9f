import type { IncomingMessage } from "node:http";
import { isDocsPath } from "./docs.js";

// JSON is never a document to render: nothing may load, run or frame from an API answer.
const API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

// Swagger UI at /docs: its scripts and styles come from /docs itself (the initializer is a file, not inline), it
// sets inline styles on elements, draws icons from data: URIs and fetches /openapi.json and "Try it out"
// requests from this origin. ReDoc at /redoc (one script from /redoc itself, styles it injects) runs its search
// in a worker it makes from a blob: URL. Nothing else, and nobody may frame them.
const DOCS_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");

/** One year, in seconds: the usual HSTS lifetime. */
const HSTS_MAX_AGE = 365 * 24 * 3600;

/**
 * The headers every answer carries: no MIME sniffing, no referrer, no framing, a Content-Security-Policy (a
 * strict one for JSON, one that lets Swagger UI run under /docs) and Cache-Control: no-store, since answers
 * hold tokens, balances and personal data (the /docs assets set their own caching). Strict-Transport-Security
 * only when the request reached us over TLS: on the socket itself, or, with `trustProxyHops` > 0, as the
 * trusted proxy's X-Forwarded-Proto says. Sent over plain HTTP it would be ignored by browsers at best, and on a
 * deployment without TLS it would lock browsers out of the API for a year.
 */
export function responseHeaders(
  req: IncomingMessage,
  path: string,
  trustProxyHops: number,
): Record<string, string> {
  const docs = isDocsPath(path);
  const headers: Record<string, string> = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "content-security-policy": docs ? DOCS_POLICY : API_POLICY,
    "cache-control": "no-store",
  };
  if (overTls(req, trustProxyHops)) headers["strict-transport-security"] = `max-age=${HSTS_MAX_AGE}`;
  return headers;
}

/**
 * The WWW-Authenticate challenge of a 401 (RFC 6750): `Bearer realm="api"`, with `error="invalid_token"` when the
 * request did send a bearer token (expired, revoked or forged), so a client knows to refresh or log in again.
 */
export function authChallenge(req: IncomingMessage): string {
  const sent = /^bearer\s+\S/i.test(req.headers.authorization ?? "");
  return sent ? 'Bearer realm="api", error="invalid_token"' : 'Bearer realm="api"';
}

function overTls(req: IncomingMessage, trustProxyHops: number): boolean {
  if ("encrypted" in req.socket && req.socket.encrypted === true) return true;
  if (trustProxyHops === 0) return false;
  // The nearest proxy, the one we trust, wrote the last value.
  const forwarded = req.headers["x-forwarded-proto"];
  const last = (Array.isArray(forwarded) ? forwarded.join(",") : (forwarded ?? "")).split(",").pop();
  return last?.trim().toLowerCase() === "https";
}
