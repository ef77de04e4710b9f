import type { IncomingMessage, ServerResponse } from "node:http";

const ALLOWED_HEADERS = "authorization, content-type, x-api-key, x-request-id, idempotency-key";
const EXPOSED_HEADERS = "x-request-id, ratelimit, ratelimit-policy, retry-after, idempotent-replayed";
const MAX_AGE_SECONDS = "600";

/**
 * CORS for browsers on the configured origins ("*" allows any). Credentials travel in headers, never cookies,
 * so Access-Control-Allow-Credentials is never sent. Origins not listed get no CORS headers: the browser then
 * refuses the response, which is the point.
 */
export function createCors(origins: readonly string[]) {
  const any = origins.includes("*");
  const allowed = new Set(origins);
  const allowOrigin = (origin: string | undefined): string | undefined => {
    if (origin === undefined) return undefined;
    if (any) return "*";
    return allowed.has(origin) ? origin : undefined;
  };
  return {
    /**
     * Sets the CORS headers of a response; answers a preflight (OPTIONS with Access-Control-Request-Method)
     * itself and returns true when it did.
     */
    handle(req: IncomingMessage, res: ServerResponse, allowMethods: () => string[]): boolean {
      const origin = allowOrigin(req.headers.origin);
      if (origins.length > 0) res.setHeader("vary", "Origin");
      const preflight =
        req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined;
      if (origin === undefined) {
        if (preflight) {
          res.writeHead(204).end();
          return true;
        }
        return false;
      }
      res.setHeader("access-control-allow-origin", origin);
      if (!preflight) {
        res.setHeader("access-control-expose-headers", EXPOSED_HEADERS);
        return false;
      }
      res.writeHead(204, {
        "access-control-allow-methods": allowMethods().join(", "),
        "access-control-allow-headers": ALLOWED_HEADERS,
        "access-control-max-age": MAX_AGE_SECONDS,
      });
      res.end();
      return true;
    },
  };
}
