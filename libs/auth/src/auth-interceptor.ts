import type { Interceptor } from "@connectrpc/connect";
import type { Authenticator } from "./authenticator.js";
import { unauthenticated } from "./errors.js";
import { principalKey } from "./principal.js";

/** Options for {@link createAuthInterceptor}. */
export interface AuthInterceptorOptions {
  authenticator: Authenticator;
  /**
   * Methods callable without credentials, as "<service type name>/<method name>", e.g.
   * "fintech.identity.v1.IdentityService/Login". A bad credential sent to one of them is ignored (the call
   * runs anonymously) so that, say, an expired token does not stop a client from logging in again.
   */
  publicMethods?: readonly string[];
}

/**
 * Server interceptor authenticating every call: the caller goes into the context values under `principalKey`
 * (read it with getPrincipal / requireUser / requireAdmin / requireService). A call to a non-public method
 * without credentials, or with a bad one, fails Unauthenticated (reason UNAUTHENTICATED) before its handler
 * runs. Pass it first in createServer's `interceptors`, before validation.
 */
export function createAuthInterceptor(opts: AuthInterceptorOptions): Interceptor {
  const publicMethods = new Set(opts.publicMethods ?? []);
  return (next) => async (req) => {
    const isPublic = publicMethods.has(`${req.service.typeName}/${req.method.name}`);
    if (isPublic) {
      const principal = await opts.authenticator.authenticate(req.header).catch(() => undefined);
      req.contextValues.set(principalKey, principal);
      return next(req);
    }
    const principal = await opts.authenticator.authenticate(req.header);
    if (principal === undefined) throw unauthenticated("credentials required");
    req.contextValues.set(principalKey, principal);
    return next(req);
  };
}
