import type { Interceptor } from "@connectrpc/connect";
import type { Authenticator } from "./authenticator.js";
import {
  clientIpKey,
  DEFAULT_FORWARDERS,
  FORWARDED_FOR_HEADER,
  forwardedByOneOf,
  singleAddress,
} from "./client-ip.js";
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
  /**
   * The services whose `x-forwarded-for` is believed (default: the gateway), when their own service token comes
   * with it in `x-forwarded-by`.
   */
  forwarders?: readonly string[];
}

/**
 * Server interceptor authenticating every call: the caller goes into the context values under `principalKey`
 * (read it with getPrincipal / requireUser / requireAdmin / requireService). A call to a non-public method
 * without credentials, or with a bad one, fails Unauthenticated (reason UNAUTHENTICATED) before its handler
 * runs. Pass it first in createServer's `interceptors`, before validation.
 *
 * The client's address goes under `clientIpKey` (getClientIp) when a forwarder proved the call is its own:
 * `x-forwarded-by` carries a valid service token of one of `forwarders`. Without that proof the address is
 * left empty, never refused: it is what the audit trail records, not a credential.
 */
export function createAuthInterceptor(opts: AuthInterceptorOptions): Interceptor {
  const publicMethods = new Set(opts.publicMethods ?? []);
  const forwarders = new Set(opts.forwarders ?? DEFAULT_FORWARDERS);

  async function forwardedAddress(headers: Headers): Promise<string> {
    const address = singleAddress(headers.get(FORWARDED_FOR_HEADER));
    if (address === "") return "";
    return (await forwardedByOneOf(opts.authenticator, headers, forwarders)) ? address : "";
  }

  return (next) => async (req) => {
    const isPublic = publicMethods.has(`${req.service.typeName}/${req.method.name}`);
    if (isPublic) {
      const principal = await opts.authenticator.authenticate(req.header).catch(() => undefined);
      req.contextValues.set(principalKey, principal);
    } else {
      const principal = await opts.authenticator.authenticate(req.header);
      if (principal === undefined) throw unauthenticated("credentials required");
      req.contextValues.set(principalKey, principal);
    }
    req.contextValues.set(clientIpKey, await forwardedAddress(req.header));
    return next(req);
  };
}
